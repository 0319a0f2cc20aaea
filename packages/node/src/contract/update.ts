/** /allerac/v1/update: status for the dashboard, the opt-in settings, and a check. */
import { type Static, Type } from '@sinclair/typebox';
import { Closed, IsoTime, Nullable, RequiredText } from './schema.js';

const HTTP_URL = '^https?://';

/** Where updates come from: the npm registry (a package's `latest` dist-tag) or a release manifest. */
export const UpdateSource = Type.Union(
  [
    Type.Object({
      kind: Type.Literal('npm'),
      package: RequiredText(214),
      registry: Type.Optional(Type.String({ pattern: HTTP_URL })),
    }),
    Type.Object({
      kind: Type.Literal('url'),
      /** A JSON manifest: {version, tarball, sha256}; a relative tarball URL is resolved against it. */
      url: Type.String({ pattern: HTTP_URL, maxLength: 2048 }),
    }),
  ],
  { description: '{"kind": "npm", "package": ...} or {"kind": "url", "url": "https://..."}' },
);
export type UpdateSource = Static<typeof UpdateSource>;

/** A release as a source describes it. */
export const ReleaseInfo = Type.Object({
  version: Type.String(),
  tarball: Type.String(),
  /** Hex SHA-256 of the tarball (release manifests). */
  sha256: Type.Optional(Type.String()),
  /** Subresource-integrity string (npm: `sha512-<base64>`). */
  integrity: Type.Optional(Type.String()),
});
export type ReleaseInfo = Static<typeof ReleaseInfo>;

/** The outcome of a check; POST /allerac/v1/update/check answers it. */
export const UpdateCheck = Type.Object({
  at: IsoTime,
  current: Type.String(),
  latest: ReleaseInfo,
  available: Type.Boolean(),
});
export type UpdateCheck = Static<typeof UpdateCheck>;

/** One apply or rollback of a native install. */
export const UpdateEvent = Type.Object({
  at: IsoTime,
  action: Type.Union([Type.Literal('apply'), Type.Literal('rollback'), Type.Literal('auto-rollback')]),
  from: Nullable(Type.String()),
  to: Type.String(),
  result: Type.Union([Type.Literal('ok'), Type.Literal('rolled-back'), Type.Literal('failed')]),
  detail: Type.Optional(Type.String()),
  since: Type.Optional(Type.Number()),
});
export type UpdateEvent = Static<typeof UpdateEvent>;

/** PUT /allerac/v1/update/settings answers the settings as they now are. */
export const UpdateSettings = Closed({ enabled: Type.Boolean(), source: UpdateSource });
export type UpdateSettings = Static<typeof UpdateSettings>;

/** PUT /allerac/v1/update/settings: either or both. */
export const UpdateSettingsBody = Type.Object({
  enabled: Type.Optional(Type.Boolean()),
  source: Type.Optional(UpdateSource),
});
export type UpdateSettingsBody = Static<typeof UpdateSettingsBody>;

/** GET /allerac/v1/update/status. */
export const UpdateStatus = Closed({
  enabled: Type.Boolean(),
  source: UpdateSource,
  currentVersion: Type.String(),
  updateAvailable: Type.Boolean(),
  lastCheck: Nullable(UpdateCheck),
  /** The native install this node runs from; null in Docker or a checkout. */
  install: Nullable(
    Closed({
      mode: Type.Literal('native'),
      prefix: Type.String(),
      current: Nullable(Type.String()),
      versions: Type.Array(Type.String()),
      previous: Nullable(Type.String()),
      history: Type.Array(UpdateEvent),
    }),
  ),
});
export type UpdateStatus = Static<typeof UpdateStatus>;
