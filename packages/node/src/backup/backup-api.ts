import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  type BackupInfo,
  type BackupList,
  BackupScheduleBody,
  type BackupStatus,
  CreateBackupBody,
} from '../contract/backup.js';
import { BackupListQuery } from '../contract/query.js';
import { BadRequestError, HttpError } from '../http/errors.js';
import { validatedBy } from '../http/validate.js';
import type { BackupService } from './backup-service.js';
import { BackupTargetNotAllowedError } from './backup-targets.js';
import { CronSyntaxError } from './cron.js';
import { BackupError } from './errors.js';

function asBadRequest(error: unknown): never {
  // A target outside --backup-dirs is a refusal by policy, not a mistyped request.
  if (error instanceof BackupTargetNotAllowedError)
    throw new HttpError(403, error.message, 'permission_error');
  if (error instanceof BackupError || error instanceof CronSyntaxError)
    throw new BadRequestError(error.message);
  throw error;
}

/** A backup now may be asked for with no body at all: a manual one into the default directory. */
const OptionalCreateBackupBody = Type.Union([CreateBackupBody, Type.Undefined()]);

/**
 * /allerac/v1/backups: status for the dashboard, the archive list, a backup now, the schedule.
 * Restore is not here: it needs the node stopped (`allerac backup restore`).
 */
export function registerBackupApi(app: FastifyInstance, backups: BackupService): void {
  app.get(
    '/allerac/v1/backups/status',
    { config: { access: 'admin' } },
    async (): Promise<BackupStatus> => backups.status(),
  );

  app.get(
    '/allerac/v1/backups',
    { config: { access: 'admin' }, ...validatedBy({ querystring: BackupListQuery }) },
    async (request): Promise<BackupList> => {
      const { dir } = request.query as BackupListQuery;
      try {
        return { backups: backups.list(dir) };
      } catch (error) {
        asBadRequest(error);
      }
    },
  );

  app.post<{ Body: CreateBackupBody | undefined }>(
    '/allerac/v1/backups',
    { config: { access: 'admin' }, ...validatedBy({ body: OptionalCreateBackupBody }) },
    async (request, reply) => {
      const body = request.body ?? {};
      const info: BackupInfo = await backups
        .create({
          dir: body.dir ?? undefined,
          file: body.file ?? undefined,
          passphrase: body.passphrase ?? undefined,
          kind: body.kind ?? 'manual',
        })
        .catch(asBadRequest);
      return reply.status(201).send(info);
    },
  );

  app.put<{ Body: BackupScheduleBody }>(
    '/allerac/v1/backups/schedule',
    { config: { access: 'admin' }, ...validatedBy({ body: BackupScheduleBody }) },
    async (request): Promise<BackupStatus> => {
      const { cron, keep, dir, passphraseFile } = request.body;
      await backups
        .setSchedule({ cron, keep, dir, ...(passphraseFile ? { passphraseFile } : {}) })
        .catch(asBadRequest);
      return backups.status();
    },
  );

  app.delete(
    '/allerac/v1/backups/schedule',
    { config: { access: 'admin' } },
    async (): Promise<BackupStatus> => {
      await backups.setSchedule(null);
      return backups.status();
    },
  );
}
