/** Settings, "Devices and tokens": device keys (in a client's base URL) and API tokens (admin). */
import type { IssuedToken, IssueTokenBody, Role, TokenInfo, TokenList } from '@allerac/node';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { toast } from '../components/toast.js';
import { formatDate, formatDateTime } from '../format.js';
import { type MessageKey, t } from '../i18n.js';

type Kind = 'device' | 'token';

/** The lifetimes offered; the API takes any duration (`expiresIn`). */
const EXPIRIES = ['never', '30d', '90d', '365d'] as const;
type Expiry = (typeof EXPIRIES)[number];

const STATE_KEYS: Record<TokenInfo['state'], MessageKey> = {
  live: 'settings.state.live',
  expired: 'settings.state.expired',
  revoked: 'settings.state.revoked',
};

const day = (iso: string | null): string => (iso === null ? t('settings.never') : formatDate(iso));
const moment = (iso: string | null): string => (iso === null ? t('settings.never') : formatDateTime(iso));

/**
 * Copies text to the clipboard. Over plain http to a LAN address the page is not a secure context
 * and has no clipboard API, so a selected, hidden text area and the copy command stand in.
 */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard !== undefined) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Refused (no permission): try the copy command.
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  const copied = document.execCommand('copy');
  area.remove();
  return copied;
}

/** One base URL of a new device key, with its copy button. */
function BaseUrl(props: { label: string; url: string; testId: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    if (await copyText(props.url)) {
      setCopied(true);
      toast(t('settings.copied'));
    } else {
      toast(t('settings.copyFailed'), 'error');
    }
  };
  return (
    <div class="stack" data-testid={props.testId}>
      <span class="small">{props.label}</span>
      <div class="row">
        <code class="token grow">{props.url}</code>
        <button type="button" class="btn btn-small" onClick={() => void copy()}>
          {t(copied ? 'settings.copied' : 'settings.copy')}
        </button>
      </div>
    </div>
  );
}

/** What was just issued, shown this once. */
function Issued({ issued }: { issued: IssuedToken }) {
  if (!issued.device || issued.baseUrls === undefined) {
    return (
      <div class="alert alert-ok" role="status">
        <p>{t('settings.tokenCreated')}</p>
        <code class="token" data-testid="new-token">
          {issued.token}
        </code>
      </div>
    );
  }
  return (
    <div class="alert alert-ok stack" role="status" data-testid="new-device">
      <p>{t('settings.deviceCreated')}</p>
      <BaseUrl label={t('settings.ollamaUrl')} url={issued.baseUrls.ollama} testId="device-url-ollama" />
      <BaseUrl label={t('settings.openaiUrl')} url={issued.baseUrls.openai} testId="device-url-openai" />
      {issued.reachableFromLan === false && <p class="alert alert-warn">{t('settings.notReachable')}</p>}
    </div>
  );
}

/** The list of device keys and tokens, with the form that issues them. */
export function DevicesAndTokens() {
  const [tokens, setTokens] = useState<TokenInfo[]>([]);
  const [kind, setKind] = useState<Kind>('token');
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('admin');
  const [expiry, setExpiry] = useState<Expiry>('never');
  const [issued, setIssued] = useState<IssuedToken | undefined>();
  const load = () =>
    api<TokenList>('/allerac/v1/tokens')
      .then((r) => setTokens(r.tokens))
      .catch(() => {});
  useEffect(() => void load(), []);
  // A device chats by default; a token is mostly for scripts that manage the node.
  const chooseKind = (next: Kind) => {
    setKind(next);
    setRole(next === 'device' ? 'member' : 'admin');
  };
  const create = async (event: Event) => {
    event.preventDefault();
    const body: IssueTokenBody = {
      name,
      role,
      ...(expiry === 'never' ? {} : { expiresIn: expiry }),
      ...(kind === 'device' ? { device: true } : {}),
    };
    try {
      setIssued(await api<IssuedToken>('/allerac/v1/tokens', { body }));
      setName('');
      await load();
    } catch (error) {
      toast(t('common.error', { message: (error as Error).message }), 'error');
    }
  };
  const revoke = async (id: string) => {
    await api(`/allerac/v1/tokens/${encodeURIComponent(id)}`, { method: 'DELETE' }).catch((error: Error) =>
      toast(error.message, 'error'),
    );
    await load();
  };
  return (
    <section class="card stack" aria-labelledby="tokens-title">
      <h2 id="tokens-title">{t('settings.tokens')}</h2>
      <p class="muted">{t('settings.tokensHelp')}</p>
      <form class="row wrap" onSubmit={(event) => void create(event)}>
        <label class="field">
          <span>{t('settings.tokenKind')}</span>
          <select value={kind} onChange={(e) => chooseKind(e.currentTarget.value as Kind)}>
            <option value="token">{t('settings.kind.token')}</option>
            <option value="device">{t('settings.kind.device')}</option>
          </select>
        </label>
        <label class="field grow">
          <span>{t('settings.tokenName')}</span>
          <input value={name} required maxLength={100} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>{t('settings.tokenRole')}</span>
          <select value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            <option value="admin">{t('settings.role.admin')}</option>
            <option value="member">{t('settings.role.member')}</option>
          </select>
        </label>
        <label class="field">
          <span>{t('settings.tokenExpiry')}</span>
          <select value={expiry} onChange={(e) => setExpiry(e.currentTarget.value as Expiry)}>
            {EXPIRIES.map((value) => (
              <option key={value} value={value}>
                {t(`settings.expiry.${value}` as MessageKey)}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="btn btn-primary align-end">
          {t(kind === 'device' ? 'settings.createDevice' : 'settings.createToken')}
        </button>
      </form>
      {kind === 'device' && <p class="muted small">{t('settings.deviceRoleHelp')}</p>}
      {issued !== undefined && <Issued issued={issued} />}
      {tokens.length === 0 ? (
        <p class="muted">{t('settings.noTokens')}</p>
      ) : (
        <div class="table-scroll">
          <table class="table">
            <thead>
              <tr>
                <th>{t('settings.col.name')}</th>
                <th>{t('settings.col.kind')}</th>
                <th>{t('settings.col.role')}</th>
                <th>{t('settings.col.source')}</th>
                <th>{t('settings.col.created')}</th>
                <th>{t('settings.col.expires')}</th>
                <th>{t('settings.col.lastUsed')}</th>
                <th>{t('settings.col.state')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {tokens.map((token) => (
                <tr key={token.id} class={token.state === 'live' ? '' : 'revoked'}>
                  <td>
                    <strong>{token.name}</strong>
                  </td>
                  <td class="muted">
                    {t(token.device ? 'settings.kindShort.device' : 'settings.kindShort.token')}
                  </td>
                  <td class="muted">
                    {t(token.role === 'admin' ? 'settings.role.admin' : 'settings.role.member')}
                  </td>
                  <td class="muted small">
                    {t(token.source === 'cli' ? 'settings.source.cli' : 'settings.source.api')}
                  </td>
                  <td class="muted small">{day(token.createdAt)}</td>
                  <td class="muted small">{day(token.expiresAt)}</td>
                  <td class="muted small">{moment(token.lastUsedAt)}</td>
                  <td class="small">{t(STATE_KEYS[token.state])}</td>
                  <td class="num">
                    {token.state !== 'revoked' && (
                      <button
                        type="button"
                        class="btn btn-ghost btn-small btn-danger-text"
                        onClick={() => void revoke(token.id)}
                      >
                        {t('settings.revoke')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
