/**
 * The backup panel: one sentence on the last backup and the schedule, with Back up now, Schedule and
 * Restore. A restore needs the node stopped (the API has none), so Restore confirms and then gives
 * the exact command for this machine.
 */
import type { BackupInfo, BackupList, BackupStatus } from '@allerac/node';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { formatBytes } from '../format.js';
import { t } from '../i18n.js';
import { copyText } from '../pages/settings-tokens.js';
import { CommandLine, shellWord } from './command-line.js';
import { ConfirmDialog } from './confirm.js';
import { formatDayTime, formatTime } from './day-time.js';
import { SettingsLink } from './settings-link.js';
import { toast } from './toast.js';

type Frequency = 'nightly' | 'weekly';
/** Archives a schedule keeps: a week of nights, or a month of weeks. */
const KEEP: Record<Frequency, number> = { nightly: 7, weekly: 4 };
/** Weekly backups run on Sundays (cron day 0), when a home's machines are least busy. */
const WEEKLY_DAY = 0;
/** The data dir's own backup directory is `<data-dir>/backups` (backup/constants.ts). */
const BACKUPS_SUBDIR = '/backups';

/** A schedule this panel can make: nightly or weekly at a time of day. */
interface SimpleSchedule {
  frequency: Frequency;
  hour: number;
  minute: number;
}

/** Reads back a cron expression this panel wrote; undefined for any other. */
export function parseSimpleCron(cron: string): SimpleSchedule | undefined {
  const match = /^(\d{1,2}) (\d{1,2}) \* \* (\*|\d)$/.exec(cron.trim());
  if (match === null) return undefined;
  const [, minute = '', hour = '', day = ''] = match;
  if (day !== '*' && Number(day) !== WEEKLY_DAY) return undefined;
  return { frequency: day === '*' ? 'nightly' : 'weekly', hour: Number(hour), minute: Number(minute) };
}

/** The cron expression of a nightly or weekly schedule. */
export function simpleCron(schedule: SimpleSchedule): string {
  return `${schedule.minute} ${schedule.hour} * * ${schedule.frequency === 'nightly' ? '*' : WEEKLY_DAY}`;
}

/** A time of day in the language's own way: 03:00, 3:00 AM. */
function timeOfDay(hour: number, minute: number): string {
  const date = new Date();
  date.setHours(hour, minute, 0, 0);
  return formatTime(date);
}

/** The sentence about the last backup, or the nudge when there is none. */
export function BackupSentence(props: { status: BackupStatus }) {
  const { last, schedule, nextRun } = props.status;
  if (last === null) {
    return (
      <p data-testid="backup-sentence">
        {schedule === null || nextRun === null
          ? t('backup.none')
          : t('backup.noneYet', { when: formatDayTime(nextRun) })}
      </p>
    );
  }
  return (
    <p data-testid="backup-sentence">
      {t(last.encrypted ? 'backup.lastEncrypted' : 'backup.last', {
        when: formatDayTime(last.at),
        size: formatBytes(last.bytes),
      })}
    </p>
  );
}

/** The sentence about the schedule, or the nudge to make one. */
export function ScheduleSentence(props: { status: BackupStatus }) {
  const { schedule, nextRun, last } = props.status;
  if (schedule === null)
    return last === null ? null : <p class="alert alert-warn">{t('backup.noSchedule')}</p>;
  const simple = parseSimpleCron(schedule.cron);
  const vars = {
    time: simple === undefined ? '' : timeOfDay(simple.hour, simple.minute),
    next: nextRun === null ? '—' : formatDayTime(nextRun),
    keep: schedule.keep,
    cron: schedule.cron,
    dir: schedule.dir,
  };
  const key =
    simple === undefined
      ? 'backup.custom'
      : simple.frequency === 'nightly'
        ? 'backup.nightly'
        : 'backup.weekly';
  return <p class="muted">{t(key, vars)}</p>;
}

/** The restore command for an archive, with the data dir when the archive sits in its own directory. */
function restoreCommand(file: string, defaultDir: string): string {
  const words = ['allerac', 'backup', 'restore', shellWord(file)];
  if (defaultDir.endsWith(BACKUPS_SUBDIR))
    words.push('--data-dir', shellWord(defaultDir.slice(0, -BACKUPS_SUBDIR.length)));
  return words.join(' ');
}

/** Backups: the sentences, Back up now, the schedule form and Restore. */
export function BackupPanel() {
  const [status, setStatus] = useState<BackupStatus | null | undefined>();
  const [archives, setArchives] = useState<BackupInfo[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [frequency, setFrequency] = useState<Frequency>('nightly');
  const [time, setTime] = useState('03:00');
  const [chosen, setChosen] = useState('');
  const [restoring, setRestoring] = useState<BackupInfo | undefined>();

  const load = async () => {
    try {
      const next = await api<BackupStatus>('/allerac/v1/backups/status');
      setStatus(next);
      const simple = next.schedule === null ? undefined : parseSimpleCron(next.schedule.cron);
      if (simple !== undefined) {
        setFrequency(simple.frequency);
        setTime(`${String(simple.hour).padStart(2, '0')}:${String(simple.minute).padStart(2, '0')}`);
      }
      const list = (await api<BackupList>('/allerac/v1/backups')).backups.filter((b) => b.intact);
      setArchives(list);
      setChosen((current) => (list.some((b) => b.file === current) ? current : (list[0]?.file ?? '')));
    } catch {
      setStatus((current) => current ?? null);
    }
  };
  useEffect(() => void load(), []);

  const act = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
    } catch (caught) {
      setError(t('common.error', { message: (caught as Error).message }));
    } finally {
      setBusy(false);
      await load();
    }
  };
  const backUpNow = () => act(() => api('/allerac/v1/backups', { body: {} }));
  const schedule = (event: Event) => {
    event.preventDefault();
    const [hour = 0, minute = 0] = time.split(':').map(Number);
    const dir = status?.schedule?.dir ?? status?.defaultDir ?? '';
    void act(() =>
      api('/allerac/v1/backups/schedule', {
        method: 'PUT',
        body: { cron: simpleCron({ frequency, hour, minute }), keep: KEEP[frequency], dir },
      }),
    );
  };
  const unschedule = () => act(() => api('/allerac/v1/backups/schedule', { method: 'DELETE' }));

  return (
    <section class="card stack" aria-labelledby="backups-title">
      <h2 id="backups-title">{t('dash.backups')}</h2>
      {status === undefined && <p class="muted">{t('common.loading')}</p>}
      {status === null && <p class="muted">{t('common.notAvailable')}</p>}
      {status !== null && status !== undefined && (
        <>
          <BackupSentence status={status} />
          <ScheduleSentence status={status} />
          {status.running && <p class="muted">{t('backup.running')}</p>}
          {status.lastError !== null && (
            <p class="alert alert-error">
              {t('backup.failed', {
                when: formatDayTime(status.lastError.at),
                message: status.lastError.message,
              })}
            </p>
          )}
          {error !== undefined && (
            <p class="alert alert-error" role="alert">
              {error}
            </p>
          )}
          <div class="row wrap">
            <button type="button" class="btn btn-primary" disabled={busy} onClick={() => void backUpNow()}>
              {t('backup.now')}
            </button>
          </div>
          <form class="row wrap" onSubmit={schedule}>
            <label class="field">
              <span>{t('backup.frequency')}</span>
              <select value={frequency} onChange={(e) => setFrequency(e.currentTarget.value as Frequency)}>
                <option value="nightly">{t('backup.frequency.nightly')}</option>
                <option value="weekly">{t('backup.frequency.weekly')}</option>
              </select>
            </label>
            <label class="field">
              <span>{t('backup.at')}</span>
              <input type="time" required value={time} onInput={(e) => setTime(e.currentTarget.value)} />
            </label>
            <button type="submit" class="btn align-end" disabled={busy}>
              {t('backup.schedule')}
            </button>
            {status.schedule !== null && (
              <button
                type="button"
                class="btn btn-ghost align-end"
                disabled={busy}
                onClick={() => void unschedule()}
              >
                {t('backup.unschedule')}
              </button>
            )}
          </form>
          <div class="row wrap">
            <label class="field grow">
              <span>{t('backup.archive')}</span>
              <select
                value={chosen}
                disabled={archives.length === 0}
                onChange={(e) => setChosen(e.currentTarget.value)}
              >
                {archives.length === 0 && <option value="">{t('backup.noArchives')}</option>}
                {archives.map((archive) => (
                  <option key={archive.file} value={archive.file}>
                    {`${formatDayTime(archive.createdAt)} · ${formatBytes(archive.bytes)}`}
                  </option>
                ))}
              </select>
            </label>
            <button
              type="button"
              class="btn align-end"
              disabled={archives.length === 0}
              onClick={() => setRestoring(archives.find((a) => a.file === chosen))}
            >
              {t('backup.restore')}
            </button>
          </div>
        </>
      )}
      {restoring !== undefined && status !== null && status !== undefined && (
        <ConfirmDialog
          message={t('backup.restoreConfirm', { when: formatDayTime(restoring.createdAt) })}
          confirmLabel={t('backup.copyCommand')}
          danger
          onCancel={() => setRestoring(undefined)}
          onConfirm={() => {
            const command = restoreCommand(restoring.file, status.defaultDir);
            void copyText(command).then((copied) =>
              toast(t(copied ? 'settings.copied' : 'settings.copyFailed')),
            );
            setRestoring(undefined);
          }}
        >
          <p class="muted small">{t('backup.restoreSteps')}</p>
          <CommandLine command={restoreCommand(restoring.file, status.defaultDir)} />
        </ConfirmDialog>
      )}
    </section>
  );
}

/** The dashboard's short form: the two sentences and a link to the panel in Settings. */
export function BackupSummary(props: { status: BackupStatus | null | undefined }) {
  return (
    <section class="card stack" aria-labelledby="backup-summary-title">
      <h2 id="backup-summary-title">{t('dash.backups')}</h2>
      {props.status === undefined && <p class="muted">{t('common.loading')}</p>}
      {props.status === null && <p class="muted">{t('common.notAvailable')}</p>}
      {props.status != null && (
        <>
          <BackupSentence status={props.status} />
          <ScheduleSentence status={props.status} />
        </>
      )}
      <SettingsLink />
    </section>
  );
}
