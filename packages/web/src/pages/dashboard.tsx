import type { BackupStatus, Dashboard, SystemSample, UpdateStatus } from '@allerac/node';
import { useEffect, useState } from 'preact/hooks';
import { api, formatBytes, optionalApi } from '../api.js';
import { BackupSummary } from '../components/backup-panel.js';
import { LineChart } from '../components/chart.js';
import { ConfirmDialog } from '../components/confirm.js';
import { toast } from '../components/toast.js';
import { UpdateSummary } from '../components/update-panel.js';
import { formatDuration, formatNumber, formatPercent } from '../format.js';
import { t } from '../i18n.js';
import { useLiveEvents } from '../live.js';
import { PullModel } from './setup.js';

/** RAM use above this share risks the "mini-PC freezes" case: the OS starts thrashing swap. */
const RAM_WARNING_PERCENT = 90;
/** Samples kept for the charts: 10 minutes at one per 2 s. */
const MAX_SAMPLES = 300;

const percent = (used: number, total: number) => (total > 0 ? Math.round((used / total) * 1000) / 10 : 0);

/** Dashboard: live system health, Ollama, database, backups and updates. */
export function DashboardPage() {
  const [samples, setSamples] = useState<SystemSample[]>([]);
  const [data, setData] = useState<Dashboard | undefined>();
  const [backups, setBackups] = useState<BackupStatus | null | undefined>();
  const [updates, setUpdates] = useState<UpdateStatus | null | undefined>();
  const [deleting, setDeleting] = useState<string | undefined>();

  const load = () =>
    api<Dashboard>('/allerac/v1/dashboard')
      .then(setData)
      .catch(() => {});
  useEffect(() => {
    void load();
    void optionalApi<BackupStatus>('/allerac/v1/backups/status')
      .then((v) => setBackups(v ?? null))
      .catch(() => setBackups(null));
    void optionalApi<UpdateStatus>('/allerac/v1/update/status')
      .then((v) => setUpdates(v ?? null))
      .catch(() => setUpdates(null));
  }, []);
  useLiveEvents({
    history: (history) => setSamples(history.samples.slice(-MAX_SAMPLES)),
    system: (sample) => setSamples((list) => [...list, sample].slice(-MAX_SAMPLES)),
  });

  const last = samples.at(-1);
  const ramPercent = last === undefined ? 0 : percent(last.ramUsed, last.ramTotal);
  const minutes = Math.max(1, Math.round((samples.length * 2) / 60));

  const removeModel = async (name: string) => {
    setDeleting(undefined);
    try {
      await api(`/allerac/v1/models/${encodeURIComponent(name)}`, { method: 'DELETE' });
      await load();
    } catch (error) {
      toast(t('common.error', { message: (error as Error).message }), 'error');
    }
  };

  const metric = (
    key: 'cpu' | 'ram' | 'swap' | 'disk',
    label: string,
    values: number[],
    current: string,
    detail: string,
  ) => (
    <article class="card metric" data-testid={`metric-${key}`}>
      <header class="row between">
        <h2 class="small-title">{label}</h2>
        <span class="muted small">
          <span class="live-dot" aria-hidden="true" /> {t('dash.lastMinutes', { n: minutes })}
        </span>
      </header>
      <div class="metric-value">{current}</div>
      <div class="muted small">{detail}</div>
      <LineChart values={values} label={`${label} ${current}`} />
    </article>
  );

  return (
    <div class="page">
      <header class="page-head">
        <div>
          <h1 class="page-title">{t('dash.title')}</h1>
          <p class="muted">
            {t('dash.subtitle')}
            {data !== undefined &&
              ` · ${data.node.name} ${data.node.version} · ${t('dash.uptime', { time: formatDuration(data.node.uptimeSeconds) })}`}
          </p>
        </div>
      </header>
      {ramPercent >= RAM_WARNING_PERCENT && (
        <p class="alert alert-warn" role="alert">
          ⚠ {t('dash.ramWarning', { percent: formatNumber(ramPercent) })}
        </p>
      )}
      <div class="metrics-grid">
        {metric(
          'cpu',
          t('dash.cpu'),
          samples.map((s) => s.cpu),
          last === undefined ? '—' : formatPercent(last.cpu),
          data?.hardware?.cpuModel ?? '',
        )}
        {metric(
          'ram',
          t('dash.ram'),
          samples.map((s) => percent(s.ramUsed, s.ramTotal)),
          last === undefined ? '—' : formatPercent(ramPercent),
          last === undefined ? '' : `${formatBytes(last.ramUsed)} / ${formatBytes(last.ramTotal)}`,
        )}
        {metric(
          'swap',
          t('dash.swap'),
          samples.map((s) => percent(s.swapUsed, s.swapTotal)),
          last === undefined ? '—' : formatPercent(percent(last.swapUsed, last.swapTotal)),
          last === undefined ? '' : `${formatBytes(last.swapUsed)} / ${formatBytes(last.swapTotal)}`,
        )}
        {metric(
          'disk',
          t('dash.disk'),
          samples.map((s) => percent(s.diskUsed, s.diskTotal)),
          last === undefined ? '—' : formatPercent(percent(last.diskUsed, last.diskTotal)),
          last === undefined ? '' : `${formatBytes(last.diskUsed)} / ${formatBytes(last.diskTotal)}`,
        )}
        <article class="card metric">
          <h2 class="small-title">{t('dash.temperature')}</h2>
          <div class="metric-value">{last?.temperature != null ? `${last.temperature} °C` : '—'}</div>
          {last?.temperature == null && <div class="muted small">{t('dash.noTemperature')}</div>}
          {samples.some((s) => s.temperature !== null) && (
            <LineChart
              values={samples.map((s) => s.temperature ?? 0)}
              max={110}
              label={t('dash.temperature')}
            />
          )}
        </article>
      </div>
      <div class="grid-2">
        <section class="card stack">
          <header class="row between">
            <h2>{t('dash.ollama')}</h2>
            <span class={`status status-${data?.ollama.state === 'up' ? 'online' : 'offline'}`}>
              <span class="dot" aria-hidden="true" />
              {data?.ollama.state === 'up' ? t('dash.ollamaUp') : t('dash.ollamaDown')}
            </span>
          </header>
          <p class="muted small">
            {t('dash.version')}: {data?.ollama.version ?? '—'} · {data?.ollama.url}
          </p>
          <table class="table">
            <tbody>
              {data?.ollama.models.map((model) => (
                <tr key={model.name}>
                  <td>
                    <strong>{model.name}</strong>
                    {model.loaded && <span class="chip chip-on">{'●'}</span>}
                  </td>
                  <td class="muted">
                    {[model.parameterSize, model.quantization].filter(Boolean).join(' · ')}
                  </td>
                  <td class="num">{formatBytes(model.size)}</td>
                  <td class="num">
                    <button
                      type="button"
                      class="btn btn-ghost btn-small btn-danger-text"
                      aria-label={`${t('common.delete')} ${model.name}`}
                      onClick={() => setDeleting(model.name)}
                    >
                      {t('common.delete')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3 class="small-title">{t('dash.pull')}</h3>
          <PullModel onPulled={() => void load()} />
        </section>
        <div class="stack">
          <section class="card">
            <h2>{t('dash.database')}</h2>
            <dl class="stats">
              <div>
                <dt>{t('dash.dbSize')}</dt>
                <dd>{formatBytes(data?.database.sizeBytes)}</dd>
              </div>
              <div>
                <dt>{t('dash.memories')}</dt>
                <dd>{data?.database.memories ?? '—'}</dd>
              </div>
              <div>
                <dt>{t('dash.conversations')}</dt>
                <dd>{data?.database.conversations ?? '—'}</dd>
              </div>
              <div>
                <dt>{t('dash.messages')}</dt>
                <dd>{data?.database.messages ?? '—'}</dd>
              </div>
            </dl>
            <p class="muted small">{data?.database.kind}</p>
          </section>
          <BackupSummary status={backups} />
          <UpdateSummary status={updates} />
        </div>
      </div>
      {deleting !== undefined && (
        <ConfirmDialog
          message={t('dash.deleteModelConfirm', { name: deleting })}
          confirmLabel={t('common.delete')}
          danger
          onCancel={() => setDeleting(undefined)}
          onConfirm={() => void removeModel(deleting)}
        />
      )}
    </div>
  );
}
