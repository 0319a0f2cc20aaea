import type { FastifyInstance } from 'fastify';
import { BadRequestError } from '../http/errors.js';
import type { BackupSchedule, BackupService } from './backup-service.js';
import { CronSyntaxError } from './cron.js';
import { BackupError } from './errors.js';

function asBadRequest(error: unknown): never {
  if (error instanceof BackupError || error instanceof CronSyntaxError)
    throw new BadRequestError(error.message);
  throw error;
}

const optionalString = (body: Record<string, unknown>, key: string): string | undefined => {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new BadRequestError(`${key} must be a string`);
  return value;
};

/**
 * /allerac/v1/backups: status for the dashboard, the archive list, a backup now, the schedule.
 * Restore is not here: it needs the node stopped (`allerac backup restore`).
 */
export function registerBackupApi(app: FastifyInstance, backups: BackupService): void {
  app.get('/allerac/v1/backups/status', { config: { access: 'admin' } }, async (_request) => {
    return backups.status();
  });

  app.get('/allerac/v1/backups', { config: { access: 'admin' } }, async (request) => {
    const dir = (request.query as Record<string, string | undefined>).dir;
    return { backups: backups.list(dir) };
  });

  app.post('/allerac/v1/backups', { config: { access: 'admin' } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (typeof body !== 'object' || Array.isArray(body))
      throw new BadRequestError('the body must be a JSON object');
    const kind = optionalString(body, 'kind') ?? 'manual';
    if (kind !== 'manual' && kind !== 'export') throw new BadRequestError('kind must be manual or export');
    const passphrase = optionalString(body, 'passphrase');
    if (passphrase === '') throw new BadRequestError('the passphrase is empty');
    const info = await backups
      .create({ dir: optionalString(body, 'dir'), file: optionalString(body, 'file'), passphrase, kind })
      .catch(asBadRequest);
    return reply.status(201).send(info);
  });

  app.put('/allerac/v1/backups/schedule', { config: { access: 'admin' } }, async (request) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const schedule: BackupSchedule = {
      cron: optionalString(body, 'cron') ?? '',
      keep: typeof body.keep === 'number' ? body.keep : Number.NaN,
      dir: optionalString(body, 'dir') ?? '',
      ...(optionalString(body, 'passphraseFile')
        ? { passphraseFile: optionalString(body, 'passphraseFile') as string }
        : {}),
    };
    await backups.setSchedule(schedule).catch(asBadRequest);
    return backups.status();
  });

  app.delete('/allerac/v1/backups/schedule', { config: { access: 'admin' } }, async (_request) => {
    await backups.setSchedule(null);
    return backups.status();
  });
}
