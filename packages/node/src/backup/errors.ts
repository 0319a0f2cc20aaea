/** Base class of every backup failure; the message says what to do. */
export class BackupError extends Error {
  override name = 'BackupError';
}

/** The archive is damaged: a checksum does not match, or it is cut short. */
export class BackupCorruptError extends BackupError {
  override name = 'BackupCorruptError';
}

/** The archive is encrypted and the passphrase is missing or wrong. */
export class BackupPassphraseError extends BackupError {
  override name = 'BackupPassphraseError';
}

/** The file is not an archive, or one of a format/schema this version cannot read. */
export class BackupFormatError extends BackupError {
  override name = 'BackupFormatError';
}

/** The backup directory is missing or not writable (an unmounted USB drive, usually). */
export class BackupTargetError extends BackupError {
  override name = 'BackupTargetError';
}

/** An offline operation (restore) was asked for while the node runs. */
export class NodeRunningError extends BackupError {
  override name = 'NodeRunningError';
}

/** The archive asks for more than a reader allows: a decompression past the budget, a scrypt cost outside the allowed set. */
export class BackupLimitError extends BackupError {
  override name = 'BackupLimitError';
}
