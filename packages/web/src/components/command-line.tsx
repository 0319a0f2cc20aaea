/** A shell command for the machine the node runs on, with a copy button. */
import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { copyText } from '../pages/settings-tokens.js';
import { toast } from './toast.js';

/** Quotes one shell word when it holds anything but the safe characters of a path. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The command, shown as code, and a button that copies it. */
export function CommandLine(props: { command: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    if (await copyText(props.command)) setCopied(true);
    else toast(t('settings.copyFailed'), 'error');
  };
  return (
    <div class="row">
      <code class="token grow" data-testid="command">
        {props.command}
      </code>
      <button type="button" class="btn btn-small" onClick={() => void copy()}>
        {t(copied ? 'settings.copied' : 'settings.copy')}
      </button>
    </div>
  );
}
