/**
 * The update panel: "You are up to date (0.1.0)" or "Version X is available", with Check, Apply and
 * Roll back. Applying or rolling back restarts the node, which the node cannot do to itself from a
 * request (the API has neither), so those confirm and then give the command for this machine.
 */
import type { UpdateStatus } from '@allerac/node';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { copyText } from '../pages/settings-tokens.js';
import { CommandLine } from './command-line.js';
import { ConfirmDialog } from './confirm.js';
import { formatDayTime } from './day-time.js';
import { SettingsLink } from './settings-link.js';
import { toast } from './toast.js';

type Action = 'apply' | 'rollback';

const COMMANDS: Record<Action, string> = {
  apply: 'allerac update apply',
  rollback: 'allerac update rollback',
};

/** The one sentence on where this node stands. */
export function UpdateSentence(props: { status: UpdateStatus }) {
  const { status } = props;
  const version = status.currentVersion;
  if (!status.enabled) return <p data-testid="update-sentence">{t('update.off', { version })}</p>;
  if (status.updateAvailable && status.lastCheck !== null)
    return (
      <p data-testid="update-sentence">
        {t('update.available', { latest: status.lastCheck.latest.version, version })}
      </p>
    );
  if (status.lastCheck === null)
    return <p data-testid="update-sentence">{t('update.unchecked', { version })}</p>;
  return <p data-testid="update-sentence">{t('update.upToDate', { version })}</p>;
}

/** Updates: the sentence, the opt-in switch, Check now, Apply and Roll back. */
export function UpdatePanel() {
  const [status, setStatus] = useState<UpdateStatus | null | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [confirming, setConfirming] = useState<Action | undefined>();

  const load = () =>
    api<UpdateStatus>('/allerac/v1/update/status')
      .then(setStatus)
      .catch(() => setStatus((current) => current ?? null));
  useEffect(() => void load(), []);

  const act = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
    } catch (caught) {
      setError(t('update.failed', { message: (caught as Error).message }));
    } finally {
      setBusy(false);
      await load();
    }
  };
  const setEnabled = (enabled: boolean) =>
    act(() => api('/allerac/v1/update/settings', { method: 'PUT', body: { enabled } }));
  const check = () => act(() => api('/allerac/v1/update/check', { method: 'POST' }));

  const native = status?.install != null;
  const previous = status?.install?.previous ?? null;
  const latest = status?.lastCheck?.latest.version ?? '';
  return (
    <section class="card stack" aria-labelledby="updates-title">
      <h2 id="updates-title">{t('dash.updates')}</h2>
      {status === undefined && <p class="muted">{t('common.loading')}</p>}
      {status === null && <p class="muted">{t('common.notAvailable')}</p>}
      {status !== null && status !== undefined && (
        <>
          <UpdateSentence status={status} />
          {status.enabled && status.lastCheck !== null && (
            <p class="muted small">{t('update.checkedAt', { when: formatDayTime(status.lastCheck.at) })}</p>
          )}
          {error !== undefined && (
            <p class="alert alert-error" role="alert">
              {error}
            </p>
          )}
          <div class="row wrap">
            {status.enabled ? (
              <>
                <button type="button" class="btn btn-primary" disabled={busy} onClick={() => void check()}>
                  {t('update.check')}
                </button>
                {status.updateAvailable && (
                  <button type="button" class="btn" onClick={() => setConfirming('apply')}>
                    {t('update.apply')}
                  </button>
                )}
              </>
            ) : (
              <button
                type="button"
                class="btn btn-primary"
                disabled={busy}
                onClick={() => void setEnabled(true)}
              >
                {t('update.enable')}
              </button>
            )}
            {previous !== null && (
              <button type="button" class="btn" onClick={() => setConfirming('rollback')}>
                {t('update.rollback')}
              </button>
            )}
            {status.enabled && (
              <button
                type="button"
                class="btn btn-ghost"
                disabled={busy}
                onClick={() => void setEnabled(false)}
              >
                {t('update.disable')}
              </button>
            )}
          </div>
        </>
      )}
      {confirming !== undefined && (
        <ConfirmDialog
          message={
            confirming === 'apply'
              ? t('update.applyConfirm', { latest })
              : t('update.rollbackConfirm', { previous: previous ?? '' })
          }
          confirmLabel={t('backup.copyCommand')}
          onCancel={() => setConfirming(undefined)}
          onConfirm={() => {
            void copyText(COMMANDS[confirming]).then((copied) =>
              toast(t(copied ? 'settings.copied' : 'settings.copyFailed')),
            );
            setConfirming(undefined);
          }}
        >
          <p class="muted small">{t(native ? 'update.runHere' : 'update.notNative')}</p>
          <CommandLine command={COMMANDS[confirming]} />
        </ConfirmDialog>
      )}
    </section>
  );
}

/** The dashboard's short form: the sentence and a link to the panel in Settings. */
export function UpdateSummary(props: { status: UpdateStatus | null | undefined }) {
  return (
    <section class="card stack" aria-labelledby="update-summary-title">
      <h2 id="update-summary-title">{t('dash.updates')}</h2>
      {props.status === undefined && <p class="muted">{t('common.loading')}</p>}
      {props.status === null && <p class="muted">{t('common.notAvailable')}</p>}
      {props.status != null && <UpdateSentence status={props.status} />}
      <SettingsLink />
    </section>
  );
}
