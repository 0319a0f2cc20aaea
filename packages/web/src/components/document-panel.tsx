/**
 * The Memories page's documents: import a PDF, Markdown or text file into a space (or private
 * memory), list the documents and delete one with all its parts.
 */
import type { DocumentList, DocumentView, SpaceView } from '@allerac/node';
import { useEffect, useState } from 'preact/hooks';
import { api, upload } from '../api.js';
import { t } from '../i18n.js';
import { ConfirmDialog } from './confirm.js';
import { toast } from './toast.js';

/** What the file picker offers; the node decides by the content, these only narrow the picker. */
const ACCEPT = '.pdf,.md,.markdown,.txt,application/pdf,text/markdown,text/plain';

/** Imports, lists and deletes documents; `onChange` tells the page its memories changed. */
export function DocumentPanel({ spaces, onChange }: { spaces: readonly SpaceView[]; onChange: () => void }) {
  const [documents, setDocuments] = useState<DocumentView[]>([]);
  const [space, setSpace] = useState('');
  const [importing, setImporting] = useState(false);
  const [pending, setPending] = useState<DocumentView | undefined>();

  const load = async () => {
    try {
      setDocuments((await api<DocumentList>('/allerac/v1/documents')).documents);
    } catch {
      // An older node has no documents (404): the panel stays empty.
      setDocuments([]);
    }
  };
  useEffect(() => void load(), []);

  const importFile = async (input: HTMLInputElement) => {
    const file = input.files?.[0];
    if (file === undefined) return;
    const params = new URLSearchParams({ name: file.name });
    if (space !== '') params.set('space', space);
    setImporting(true);
    try {
      const created = await upload<DocumentView>(`/allerac/v1/documents?${params}`, file);
      toast(t('documents.imported', { name: created.name, n: created.parts }));
      await load();
      onChange();
    } catch (error) {
      toast(t('common.error', { message: (error as Error).message }), 'error');
    } finally {
      setImporting(false);
      input.value = '';
    }
  };

  const remove = async (document: DocumentView) => {
    setPending(undefined);
    try {
      await api(`/allerac/v1/documents/${encodeURIComponent(document.id)}`, { method: 'DELETE' });
      await load();
      onChange();
    } catch (error) {
      toast(t('common.error', { message: (error as Error).message }), 'error');
    }
  };

  return (
    <section class="stack documents" aria-labelledby="documents-title">
      <h2 id="documents-title">{t('documents.title')}</h2>
      <p class="muted small">{t('documents.hint')}</p>
      <label class="field">
        <span>{t('memories.space')}</span>
        <select value={space} onChange={(e) => setSpace(e.currentTarget.value)} data-testid="document-space">
          <option value="">{t('memories.private')}</option>
          {spaces.map((s) => (
            <option key={s.name} value={s.name}>
              {s.name}
            </option>
          ))}
        </select>
      </label>
      <label class="field">
        <span>{importing ? t('documents.importing') : t('documents.import')}</span>
        <input
          type="file"
          accept={ACCEPT}
          disabled={importing}
          data-testid="document-file"
          onChange={(e) => void importFile(e.currentTarget)}
        />
      </label>
      {documents.length === 0 ? (
        <p class="muted small">{t('documents.empty')}</p>
      ) : (
        <ul class="space-list" data-testid="document-list">
          {documents.map((d) => (
            <li key={d.id} class="space">
              <div>
                <strong>{d.name}</strong>
                <div class="muted small">
                  {d.space ?? t('memories.private')} · {t('documents.parts', { n: d.parts })}
                </div>
              </div>
              <button type="button" class="btn btn-small btn-danger-text" onClick={() => setPending(d)}>
                {t('common.delete')}
              </button>
            </li>
          ))}
        </ul>
      )}
      {pending !== undefined && (
        <ConfirmDialog
          message={t('documents.deleteConfirm', { name: pending.name })}
          confirmLabel={t('common.delete')}
          danger
          onCancel={() => setPending(undefined)}
          onConfirm={() => void remove(pending)}
        />
      )}
    </section>
  );
}
