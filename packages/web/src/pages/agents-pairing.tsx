/** The Agents page's pairing: invite a machine (code, copy, QR, countdown) and join a home. */
import type { PairingInvitation, PairingJoined } from '@allerac/node';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { renderSVG } from 'uqr';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { copyText } from './settings-tokens.js';

/** Minutes and seconds left, as 9:05. */
const clock = (seconds: number) => `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;

/** Seconds left of an invitation, counted from when the node answered (not the client's clock). */
function useSecondsLeft(invitation: PairingInvitation | undefined): number {
  const [left, setLeft] = useState(0);
  useEffect(() => {
    if (invitation === undefined) return;
    const until = performance.now() + invitation.ttlSeconds * 1000;
    const tick = () => setLeft(Math.max(0, Math.ceil((until - performance.now()) / 1000)));
    tick();
    const timer = setInterval(tick, 1000);
    return () => clearInterval(timer);
  }, [invitation]);
  return left;
}

/** "Invite a machine": a short-lived, single-use code with Copy and a QR code. */
export function InviteMachine() {
  const [invitation, setInvitation] = useState<PairingInvitation | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [copied, setCopied] = useState<boolean | undefined>();
  const left = useSecondsLeft(invitation);
  const qr = useMemo(
    () =>
      invitation === undefined
        ? ''
        : renderSVG(invitation.code, { border: 2, pixelSize: 6, whiteColor: '#fff', blackColor: '#000' }),
    [invitation],
  );

  const invite = async () => {
    setError(undefined);
    setCopied(undefined);
    try {
      setInvitation(await api<PairingInvitation>('/allerac/v1/pairing/invitations', { body: {} }));
    } catch (err) {
      setError(t('common.error', { message: (err as Error).message }));
    }
  };
  const copy = async () => {
    if (invitation !== undefined) setCopied(await copyText(invitation.code));
  };
  const expired = invitation !== undefined && left === 0;

  return (
    <section class="card stack" aria-labelledby="invite-title">
      <h2 id="invite-title">{t('agents.invite.title')}</h2>
      <p class="muted">{t('agents.invite.help')}</p>
      {(invitation === undefined || expired) && (
        <div class="row">
          <button type="button" class="btn btn-primary" onClick={() => void invite()}>
            {invitation === undefined ? t('agents.invite.create') : t('agents.invite.again')}
          </button>
        </div>
      )}
      {expired && <p class="alert">{t('agents.invite.expired')}</p>}
      {invitation !== undefined && !expired && (
        <div class="invite">
          {/* The SVG is generated here from the code, not received as markup. */}
          <div
            class="invite-qr"
            role="img"
            aria-label={t('agents.invite.qr')}
            data-testid="invite-qr"
            dangerouslySetInnerHTML={{ __html: qr }}
          />
          <div class="stack">
            <pre class="join-code" data-testid="invite-code">
              {invitation.code}
            </pre>
            <div class="row">
              <button type="button" class="btn" onClick={() => void copy()}>
                {copied === true ? t('settings.copied') : t('settings.copy')}
              </button>
              <span class="muted" data-testid="invite-expiry" role="timer">
                {t('agents.invite.validFor', { time: clock(left) })}
              </span>
            </div>
            {copied === false && <p class="alert alert-error">{t('settings.copyFailed')}</p>}
            <p class="muted small">{t('agents.invite.cli', { code: invitation.code })}</p>
          </div>
        </div>
      )}
      {error !== undefined && (
        <p class="alert alert-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

/** "Join a home": this node joins the home of the node that made the code. */
export function JoinHome() {
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | undefined>();
  const join = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setResult(undefined);
    try {
      const joined = await api<PairingJoined>('/allerac/v1/pairing/join', { body: { code } });
      setResult({ ok: true, text: t('agents.join.joined', { name: joined.inviter.name }) });
      setCode('');
    } catch (err) {
      setResult({ ok: false, text: (err as Error).message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="join-title">
      <form class="stack" onSubmit={(event) => void join(event)}>
        <h2 id="join-title">{t('agents.join.title')}</h2>
        <p class="muted">{t('agents.join.help')}</p>
        <label class="field">
          <span>{t('setup.join.code')}</span>
          <input
            value={code}
            required
            maxLength={200}
            placeholder="ALRC-XXXXX-XXXXX-…"
            onInput={(e) => setCode(e.currentTarget.value)}
            autocomplete="off"
            spellcheck={false}
          />
        </label>
        <div class="row end">
          <button type="submit" class="btn" disabled={busy}>
            {t('agents.join.submit')}
          </button>
        </div>
        {result !== undefined && (
          <p class={result.ok ? 'alert' : 'alert alert-error'} role={result.ok ? 'status' : 'alert'}>
            {result.text}
          </p>
        )}
      </form>
    </section>
  );
}
