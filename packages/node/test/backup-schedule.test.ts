import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { listArchives } from '../src/backup/backup-files.js';
import { CronSyntaxError, cronMatches, nextCronRun, parseCron } from '../src/backup/cron.js';
import { startTestNode, type TestNode } from './helpers/test-node.js';

const local = (y: number, mo: number, d: number, h: number, mi: number) => new Date(y, mo - 1, d, h, mi);

describe('cron expressions', () => {
  it('should find the next run of common schedules', () => {
    const daily3 = parseCron('0 3 * * *');
    expect(nextCronRun(daily3, local(2025, 1, 10, 2, 59))).toEqual(local(2025, 1, 10, 3, 0));
    expect(nextCronRun(daily3, local(2025, 1, 10, 3, 0))).toEqual(local(2025, 1, 11, 3, 0));
    expect(nextCronRun(parseCron('*/15 * * * *'), local(2025, 1, 10, 10, 1))).toEqual(
      local(2025, 1, 10, 10, 15),
    );
    // Sundays at 04:30 (2025-01-12 is a Sunday), with 7 meaning Sunday too
    expect(nextCronRun(parseCron('30 4 * * 7'), local(2025, 1, 10, 0, 0))).toEqual(local(2025, 1, 12, 4, 30));
    expect(nextCronRun(parseCron('0 0 1 1-3/2 *'), local(2025, 1, 2, 0, 0))).toEqual(local(2025, 3, 1, 0, 0));
    expect(nextCronRun(parseCron('@weekly'), local(2025, 1, 10, 0, 0))).toEqual(local(2025, 1, 12, 0, 0));
    // Both day fields restricted: either matches (the 13th, a Monday, comes before the 15th)
    expect(nextCronRun(parseCron('0 0 15 * 1'), local(2025, 1, 10, 0, 0))).toEqual(local(2025, 1, 13, 0, 0));
    expect(nextCronRun(parseCron('0 0 31 2 *'), local(2025, 1, 1, 0, 0))).toBeUndefined();
    expect(cronMatches(parseCron('5,10 8-9 * * 1-5'), local(2025, 1, 10, 9, 10))).toBe(true);
    expect(cronMatches(parseCron('5,10 8-9 * * 1-5'), local(2025, 1, 11, 9, 10))).toBe(false);
    // The whole minute matches, not only its first second
    expect(cronMatches(parseCron('5,10 8-9 * * 1-5'), new Date(2025, 0, 10, 9, 10, 30, 500))).toBe(true);
    // Day and month names, as in Vixie cron (2025-01-13 is a Monday)
    expect(nextCronRun(parseCron('0 0 * jan mon'), local(2025, 1, 10, 0, 0))).toEqual(
      local(2025, 1, 13, 0, 0),
    );
  });

  it('should reject malformed expressions and name the field', () => {
    expect(() => parseCron('0 3 * *')).toThrow(CronSyntaxError);
    expect(() => parseCron('0 3 * *')).toThrow(/5 fields/);
    // Six fields would be read as seconds-first by extended crons: refused, not reinterpreted
    expect(() => parseCron('0 3 * * * *')).toThrow(/5 fields/);
    expect(() => parseCron('61 * * * *')).toThrow(/minute.*61/);
    expect(() => parseCron('0 25 * * *')).toThrow(/hour/);
    expect(() => parseCron('0 0 * * 8')).toThrow(/day ?of ?week/i);
    expect(() => parseCron('*/0 * * * *')).toThrow(/step/);
    // croner reads "?" as "the value at parse time": a stored schedule would change meaning on restart
    expect(() => parseCron('? 3 * * *')).toThrow(CronSyntaxError);
  });
});

describe('cron input from users', () => {
  it('should either parse any string or refuse it with CronSyntaxError, never another error', () => {
    const token = fc.oneof(
      fc.constantFrom('*', '?', 'L', 'W', '#', ',', '-', '/', '@', 'mon', 'jan', '@daily', '@reboot'),
      fc.integer({ min: -5, max: 70 }).map(String),
      fc.string({ maxLength: 4 }),
    );
    const expression = fc
      .tuple(fc.array(token, { maxLength: 8 }), fc.constantFrom(' ', '  ', '\t', ''))
      .map(([parts, separator]) => parts.join(separator));
    fc.assert(
      fc.property(fc.oneof(expression, fc.string({ maxLength: 40 })), (text) => {
        try {
          const schedule = parseCron(text);
          nextCronRun(schedule, local(2025, 1, 10, 0, 0));
        } catch (error) {
          expect(error).toBeInstanceOf(CronSyntaxError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('cron across daylight-saving changes (Europe/Berlin)', () => {
  const savedTz = process.env.TZ;
  const at0230 = () => parseCron('30 2 * * *');
  beforeAll(() => {
    process.env.TZ = 'Europe/Berlin';
  });
  afterAll(() => {
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
  });

  it('should run in the local zone the test set', () => {
    expect(new Date('2025-01-01T00:00:00Z').getTimezoneOffset()).toBe(-60);
  });

  it('should still run a daily backup on the night the clock skips its time, right after the gap', () => {
    // 2025-03-30 02:00 CET jumps to 03:00 CEST: there is no 02:30 that night
    expect(nextCronRun(at0230(), new Date('2025-03-29T12:00:00+01:00'))).toEqual(
      new Date('2025-03-30T03:00:00+02:00'),
    );
  });

  it('should run a daily backup once on the night its time happens twice', () => {
    // 2025-10-26 03:00 CEST falls back to 02:00 CET: 02:30 happens twice
    const first = nextCronRun(at0230(), new Date('2025-10-25T12:00:00+02:00'));
    expect(first).toEqual(new Date('2025-10-26T02:30:00+02:00'));
    expect(nextCronRun(at0230(), first as Date)).toEqual(new Date('2025-10-27T02:30:00+01:00'));
  });

  it('should run an every-30-minutes backup in both of the repeated hours', () => {
    const every30 = parseCron('*/30 * * * *');
    const runs: Date[] = [];
    let at = new Date('2025-10-26T01:45:00+02:00');
    for (let i = 0; i < 5; i += 1) {
      at = nextCronRun(every30, at) as Date;
      runs.push(at);
    }
    expect(runs.map((d) => d.toISOString())).toEqual([
      '2025-10-26T00:00:00.000Z',
      '2025-10-26T00:30:00.000Z',
      '2025-10-26T01:00:00.000Z',
      '2025-10-26T01:30:00.000Z',
      '2025-10-26T02:00:00.000Z',
    ]);
  });
});

describe('scheduled backups with retention', () => {
  let t: TestNode;
  let token: string;
  const usb = mkdtempSync(join(tmpdir(), 'allerac-usb-'));
  const put = (body: unknown) =>
    fetch(`${t.node.url}/allerac/v1/backups/schedule`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    t = await startTestNode({ sim: false, backupDirs: [usb] });
    token = issueAdminToken(t.dataDir, 'test');
  }, 30_000);
  afterAll(async () => {
    await t?.teardown();
    rmSync(usb, { recursive: true, force: true });
  });

  it('should refuse a missing directory (an unmounted drive) and a bad cron', async () => {
    const missing = await put({ cron: '0 3 * * *', keep: 3, dir: join(usb, 'not-mounted') });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: string }).error).toMatch(/does not exist.*mounted/);
    const bad = await put({ cron: '0 3 * *', keep: 3, dir: usb });
    expect(bad.status).toBe(400);
  });

  it('should run on schedule, keep only the newest archives and report the next run', async () => {
    const dir = join(usb, 'allerac');
    mkdirSync(dir);
    const response = await put({ cron: '0 3 * * *', keep: 2, dir });
    expect(response.status).toBe(200);
    const status = (await response.json()) as { schedule: { dir: string }; nextRun: string };
    expect(status.schedule.dir).toBe(dir);
    expect(new Date(status.nextRun).getHours()).toBe(3);
    // Drive the clock forward over four days instead of waiting for 03:00.
    let day = new Date(status.nextRun);
    for (let i = 0; i < 4; i += 1) {
      expect(await t.node.backups.tick(new Date(day.getTime() - 60_000))).toBeUndefined();
      expect(await t.node.backups.tick(day)).toBeDefined();
      day = new Date(day.getTime() + 24 * 3600_000);
    }
    const archives = listArchives(dir);
    expect(archives.map((a) => a.kind)).toEqual(['scheduled', 'scheduled']);
    const after = (await (
      await fetch(`${t.node.url}/allerac/v1/backups/status`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { last: { location: string; kind: string }; lastError: null };
    expect(after.last).toMatchObject({ location: dir, kind: 'scheduled' });
    expect(after.lastError).toBeNull();
  }, 60_000);

  it('should report update status with checks off by default, and refuse a check until enabled', async () => {
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const status = (await (
      await fetch(`${t.node.url}/allerac/v1/update/status`, { headers: auth })
    ).json()) as Record<string, unknown>;
    expect(status).toMatchObject({
      enabled: false,
      source: { kind: 'npm', package: '@allerac/node' },
      install: null,
    });
    const check = await fetch(`${t.node.url}/allerac/v1/update/check`, {
      method: 'POST',
      headers: auth,
      body: '{}',
    });
    expect(check.status).toBe(409);
    expect(((await check.json()) as { error: string }).error).toMatch(/nothing leaves your home/);
    const set = await fetch(`${t.node.url}/allerac/v1/update/settings`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({
        enabled: true,
        source: { kind: 'url', url: 'http://127.0.0.1:9/release.json' },
      }),
    });
    expect(await set.json()).toEqual({
      enabled: true,
      source: { kind: 'url', url: 'http://127.0.0.1:9/release.json' },
    });
  });

  it('should refuse backup routes without a token', async () => {
    const response = await fetch(`${t.node.url}/allerac/v1/backups/status`);
    expect(response.status).toBe(401);
  });
});
