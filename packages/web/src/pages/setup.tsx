import type {
  AuthSetupBody,
  PullEvents,
  PullProgress,
  Recommendation,
  SetupCompleteBody,
  SetupJoined,
  Specialization,
} from '@allerac/node';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, formatBytes, postSse, streamChat } from '../api.js';
import { ProgressBar } from '../components/chart.js';
import { toast } from '../components/toast.js';
import { LANGUAGE_CODES, LANGUAGE_NAMES, language, type MessageKey, setLanguage, t } from '../i18n.js';
import { navigate } from '../router.js';
import { authState, refreshAuth } from '../session.js';
import { useSignal } from '../signal.js';

/** Every specialization, each with its label: the record's type makes the list complete. */
const SPECIALIZATION_LABELS: Record<Specialization, MessageKey> = {
  code: 'spec.code',
  research: 'spec.research',
  creative: 'spec.creative',
  home: 'spec.home',
};
const SPECIALIZATIONS = Object.keys(SPECIALIZATION_LABELS) as Specialization[];
const TOTAL = 5;

/** What the progress bar shows before Ollama's first progress object arrives. */
type PullState = Partial<PullProgress>;

/**
 * The first-run wizard: language, account, agent, models, test. The language comes first so that
 * the account form is already in the reader's language.
 */
export function SetupPage() {
  const state = useSignal(authState)!;
  const lang = useSignal(language);
  const adminCreated = state.setup.adminCreated;
  // An admin who left mid-wizard and signed in again has the account already: resume after it.
  const [step, setStep] = useState(adminCreated ? 3 : 1);
  const [agentName, setAgentName] = useState(state.node.name);
  const [specs, setSpecs] = useState<Specialization[]>(['home']);
  const [chatModel, setChatModel] = useState('');
  const [embeddingModel, setEmbeddingModel] = useState('');
  const [busy, setBusy] = useState(false);

  const finish = async () => {
    setBusy(true);
    try {
      const body: SetupCompleteBody = {
        agentName,
        specializations: specs,
        ...(chatModel === '' ? {} : { chatModel }),
        ...(embeddingModel === '' ? {} : { embeddingModel }),
        language: lang,
      };
      await api('/allerac/v1/setup/complete', { body });
      if (chatModel !== '') localStorage.setItem('allerac.model', chatModel);
      await refreshAuth();
      navigate('/chat', true);
    } catch (error) {
      toast(t('common.error', { message: (error as Error).message }), 'error');
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="setup-page">
      <div class="setup-head">
        <img src="/favicon.svg" alt="" width="44" height="44" />
        <div>
          <h1>{t('setup.title')}</h1>
          <p class="muted">{t('app.tagline')}</p>
        </div>
      </div>
      <ol class="stepper" aria-label={t('setup.step', { n: step, total: TOTAL })}>
        {(
          [
            'setup.language.title',
            'setup.account.title',
            'setup.agent.title',
            'setup.models.title',
            'setup.test.title',
          ] as MessageKey[]
        ).map((key, index) => (
          <li
            key={key}
            class={index + 1 === step ? 'current' : index + 1 < step ? 'done' : ''}
            aria-current={index + 1 === step ? 'step' : undefined}
          >
            <span class="step-dot">{index + 1}</span>
            <span class="step-label">{t(key)}</span>
          </li>
        ))}
      </ol>
      <section class="card setup-card">
        <p class="muted small">{t('setup.step', { n: step, total: TOTAL })}</p>
        {step === 1 && (
          <div>
            <h2>{t('setup.language.title')}</h2>
            <p class="muted">{t('setup.language.help')}</p>
            <fieldset class="choices">
              <legend class="sr-only">{t('common.language')}</legend>
              {LANGUAGE_CODES.map((code) => (
                <label key={code} lang={code} class={code === lang ? 'choice selected' : 'choice'}>
                  <input
                    type="radio"
                    name="language"
                    value={code}
                    checked={code === lang}
                    onChange={() => setLanguage(code)}
                  />
                  <span>{LANGUAGE_NAMES[code]}</span>
                </label>
              ))}
            </fieldset>
            <Nav onNext={() => setStep(adminCreated ? 3 : 2)} />
          </div>
        )}
        {step === 2 && <AccountStep onBack={() => setStep(1)} onDone={() => setStep(3)} />}
        {step === 3 && (
          <div>
            <h2>{t('setup.agent.title')}</h2>
            <label class="field">
              <span>{t('setup.agent.name')}</span>
              <input
                value={agentName}
                maxLength={64}
                required
                onInput={(e) => setAgentName(e.currentTarget.value)}
              />
            </label>
            <fieldset class="choices">
              <legend>{t('setup.agent.specializations')}</legend>
              {SPECIALIZATIONS.map((spec) => (
                <label key={spec} class={specs.includes(spec) ? 'choice selected' : 'choice'}>
                  <input
                    type="checkbox"
                    checked={specs.includes(spec)}
                    onChange={(e) =>
                      setSpecs(e.currentTarget.checked ? [...specs, spec] : specs.filter((s) => s !== spec))
                    }
                  />
                  <span>{t(SPECIALIZATION_LABELS[spec])}</span>
                </label>
              ))}
            </fieldset>
            <JoinMesh />
            <Nav
              onBack={() => setStep(adminCreated ? 1 : 2)}
              onNext={() => setStep(4)}
              nextDisabled={agentName.trim() === ''}
            />
          </div>
        )}
        {step === 4 && (
          <ModelsStep
            chatModel={chatModel}
            embeddingModel={embeddingModel}
            setChatModel={setChatModel}
            setEmbeddingModel={setEmbeddingModel}
            onBack={() => setStep(3)}
            onNext={() => setStep(5)}
          />
        )}
        {step === 5 && (
          <div>
            <TestStep model={chatModel} />
            <div class="row between">
              <button type="button" class="btn" onClick={() => setStep(4)}>
                {t('common.back')}
              </button>
              <button type="button" class="btn btn-primary" disabled={busy} onClick={() => void finish()}>
                {t('setup.finish')}
              </button>
            </div>
          </div>
        )}
      </section>
    </div>
  );
}

function Nav(props: { onBack?: () => void; onNext: () => void; nextDisabled?: boolean }) {
  return (
    <div class="row between">
      {props.onBack === undefined ? (
        <span />
      ) : (
        <button type="button" class="btn" onClick={props.onBack}>
          {t('common.back')}
        </button>
      )}
      <button type="button" class="btn btn-primary" disabled={props.nextDisabled} onClick={props.onNext}>
        {t('common.next')}
      </button>
    </div>
  );
}

function AccountStep(props: { onBack: () => void; onDone: () => void }) {
  const lang = useSignal(language);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [setupCode, setSetupCode] = useState(
    () => new URLSearchParams(window.location.search).get('code') ?? '',
  );
  const setup = useSignal(authState)?.setup;
  const codeRequired = setup?.codeRequired === true;
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const body: AuthSetupBody = {
        username,
        password,
        language: lang,
        ...(codeRequired ? { setupCode } : {}),
      };
      await api('/auth/setup', { body });
      await refreshAuth();
      props.onDone();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : t('error.network'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(event) => void submit(event)}>
      <h2>{t('setup.account.title')}</h2>
      <p class="muted">{t('setup.account.help')}</p>
      <label class="field">
        <span>{t('setup.account.username')}</span>
        <input
          name="username"
          autocomplete="username"
          required
          maxLength={64}
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
        />
      </label>
      <label class="field">
        <span>{t('setup.account.password')}</span>
        <input
          name="password"
          type="password"
          autocomplete="new-password"
          required
          minLength={8}
          value={password}
          aria-describedby="password-help"
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </label>
      <small id="password-help" class="muted field-help">
        {t('setup.account.passwordHelp')}
      </small>
      {codeRequired && (
        <>
          <label class="field">
            <span>{t('setup.account.code')}</span>
            <input
              name="setupCode"
              autocomplete="off"
              required
              spellcheck={false}
              value={setupCode}
              aria-describedby="setup-code-help"
              onInput={(e) => setSetupCode(e.currentTarget.value)}
            />
          </label>
          <small id="setup-code-help" class="muted field-help">
            {t('setup.account.codeHelp', { file: setup?.codeFile ?? 'setup-code' })}
          </small>
        </>
      )}
      {error !== undefined && (
        <p class="alert alert-error" role="alert">
          {error}
        </p>
      )}
      <div class="row between">
        <button type="button" class="btn" onClick={props.onBack}>
          {t('common.back')}
        </button>
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {t('setup.account.create')}
        </button>
      </div>
    </form>
  );
}

function JoinMesh() {
  const [code, setCode] = useState('');
  const [message, setMessage] = useState<string | undefined>();
  const join = async (event: Event) => {
    event.preventDefault();
    try {
      const result = await api<SetupJoined>('/allerac/v1/setup/join', { body: { code } });
      setMessage(result.joined ? t('setup.join.joined') : t('setup.join.saved'));
    } catch (error) {
      setMessage(t('common.error', { message: (error as Error).message }));
    }
  };
  return (
    <details class="disclosure">
      <summary>{t('setup.join.title')}</summary>
      <form class="stack" onSubmit={(event) => void join(event)}>
        <p class="muted small">{t('setup.join.help')}</p>
        <label class="field">
          <span>{t('setup.join.code')}</span>
          <input
            value={code}
            required
            onInput={(e) => setCode(e.currentTarget.value)}
            autocomplete="off"
            spellcheck={false}
          />
        </label>
        <div class="row end">
          <button type="submit" class="btn">
            {t('setup.join.submit')}
          </button>
        </div>
        {message !== undefined && (
          <p class="alert" role="status">
            {message}
          </p>
        )}
      </form>
    </details>
  );
}

/** Pulls a model with a progress bar fed by Ollama's own progress objects. */
export function PullModel(props: { initial?: string; onPulled: (model: string) => void }) {
  const [model, setModel] = useState(props.initial ?? '');
  const [progress, setProgress] = useState<PullState | undefined>();
  const [pulling, setPulling] = useState(false);
  useEffect(() => {
    if (props.initial !== undefined && model === '') setModel(props.initial);
  }, [props.initial]);
  const pull = async (event: Event) => {
    event.preventDefault();
    setPulling(true);
    setProgress({ status: 'starting' });
    try {
      let failed: string | undefined;
      await postSse<PullEvents>(
        '/allerac/v1/models/pull',
        { model },
        {
          progress: setProgress,
          error: (data) => {
            failed = data.error;
          },
        },
      );
      if (failed !== undefined) throw new Error(failed);
      toast(t('setup.models.pulled', { model }));
      props.onPulled(model);
    } catch (error) {
      toast(t('common.error', { message: (error as Error).message }), 'error');
    } finally {
      setPulling(false);
    }
  };
  return (
    <form class="pull" onSubmit={(event) => void pull(event)}>
      <div class="row">
        <label class="field grow">
          <span>{t('setup.models.pullLabel')}</span>
          <input
            value={model}
            required
            placeholder="llama3.2:3b"
            onInput={(e) => setModel(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="btn" disabled={pulling}>
          {t('setup.models.pull')}
        </button>
      </div>
      {progress !== undefined && (
        <div class="pull-progress" aria-live="polite">
          <div class="row between small">
            <span>{pulling ? t('setup.models.pulling', { model }) : progress.status}</span>
            <span class="muted">
              {progress.total !== undefined
                ? `${formatBytes(progress.completed ?? 0)} / ${formatBytes(progress.total)}`
                : progress.status}
            </span>
          </div>
          <ProgressBar
            value={progress.status === 'success' ? 1 : (progress.completed ?? 0)}
            max={progress.status === 'success' ? 1 : (progress.total ?? 0)}
            label={t('setup.models.pullLabel')}
          />
        </div>
      )}
    </form>
  );
}

function ModelsStep(props: {
  chatModel: string;
  embeddingModel: string;
  setChatModel: (m: string) => void;
  setEmbeddingModel: (m: string) => void;
  onBack: () => void;
  onNext: () => void;
}) {
  const [rec, setRec] = useState<Recommendation | undefined>();
  const [error, setError] = useState<string | undefined>();
  const load = async () => {
    try {
      const next = await api<Recommendation>('/allerac/v1/setup/recommendation');
      setRec(next);
      const chats = next.installed.filter((m) => !m.embedding);
      const embeds = next.installed.filter((m) => m.embedding);
      if (props.chatModel === '' && chats.length > 0)
        props.setChatModel((chats.find((m) => m.fits) ?? chats[0]!).name);
      if (props.embeddingModel === '' && embeds.length > 0) props.setEmbeddingModel(embeds[0]!.name);
    } catch (caught) {
      setError((caught as Error).message);
    }
  };
  useEffect(() => {
    void load();
  }, []);
  if (error !== undefined) return <p class="alert alert-error">{t('common.error', { message: error })}</p>;
  if (rec === undefined) return <p aria-busy="true">{t('common.loading')}</p>;
  const chats = rec.installed.filter((m) => !m.embedding);
  const embeds = rec.installed.filter((m) => m.embedding);
  return (
    <div>
      <h2>{t('setup.models.title')}</h2>
      <p class="alert">{t('setup.models.ram', { ram: formatBytes(rec.ramBytes), size: rec.sizeHint })}</p>
      {rec.installed.length === 0 && <p class="muted">{t('setup.models.none')}</p>}
      <div class="grid-2">
        <label class="field">
          <span>{t('setup.models.chat')}</span>
          <select value={props.chatModel} onChange={(e) => props.setChatModel(e.currentTarget.value)}>
            <option value="">{t('common.none')}</option>
            {chats.map((m) => (
              <option key={m.name} value={m.name}>
                {m.name} {m.parameterSize ?? ''} {m.fits ? `· ${t('setup.models.recommended')}` : ''}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t('setup.models.embedding')}</span>
          <select
            value={props.embeddingModel}
            onChange={(e) => props.setEmbeddingModel(e.currentTarget.value)}
          >
            <option value="">{t('common.none')}</option>
            {embeds.map((m) => (
              <option key={m.name} value={m.name}>
                {m.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <p class="muted small">
        {t('setup.models.recommended')}: {rec.chat.join(', ')} · {rec.embedding.join(', ')}
      </p>
      <PullModel
        initial={rec.chat[0]}
        onPulled={(model) => void load().then(() => props.setChatModel(model))}
      />
      <Nav onBack={props.onBack} onNext={props.onNext} />
    </div>
  );
}

function TestStep(props: { model: string }) {
  const [answer, setAnswer] = useState('');
  const [node, setNode] = useState<string | undefined>();
  const [status, setStatus] = useState<'idle' | 'running' | 'ok' | 'failed'>('idle');
  const [error, setError] = useState<string | undefined>();
  const run = async () => {
    setStatus('running');
    setAnswer('');
    setError(undefined);
    try {
      let text = '';
      const result = await streamChat(
        { model: props.model, messages: [{ role: 'user', content: t('setup.test.prompt') }] },
        undefined,
        (chunk) => {
          text += chunk.message?.content ?? '';
          setAnswer(text);
          if (chunk.allerac?.node !== undefined) setNode(chunk.allerac.node);
        },
      );
      if (result.node !== null) setNode((current) => current ?? result.node ?? undefined);
      setStatus('ok');
    } catch (caught) {
      setError((caught as Error).message);
      setStatus('failed');
    }
  };
  return (
    <div>
      <h2>{t('setup.test.title')}</h2>
      <p class="muted">{t('setup.test.help')}</p>
      <div class="row">
        <button
          type="button"
          class="btn btn-primary"
          disabled={status === 'running' || props.model === ''}
          onClick={() => void run()}
        >
          {t('setup.test.run')}
        </button>
        <span class="muted small">{props.model}</span>
      </div>
      {(answer !== '' || status === 'running') && (
        <blockquote class="test-answer" aria-live="polite" data-testid="test-answer">
          {answer}
        </blockquote>
      )}
      {status === 'ok' && (
        <p class="alert alert-ok" role="status">
          ✓ {t('setup.test.ok')} {node !== undefined ? t('chat.answeredBy', { node }) : ''}
        </p>
      )}
      {error !== undefined && (
        <p class="alert alert-error" role="alert">
          {t('common.error', { message: error })}
        </p>
      )}
    </div>
  );
}
