import { useEffect, useRef } from 'preact/hooks';
import { t } from '../i18n.js';
import { renderMarkdown } from '../markdown.js';

/**
 * Copies text. The Clipboard API exists only in secure contexts, and a node reached over the LAN
 * is plain http, so there the older copy command on a hidden textarea does it.
 */
async function copyText(text: string): Promise<void> {
  if (window.isSecureContext && navigator.clipboard !== undefined) return navigator.clipboard.writeText(text);
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  const copied = document.execCommand('copy');
  area.remove();
  if (!copied) throw new Error('copy refused');
}

/** Gives every code block a Copy button (built as DOM, so the sanitiser never sees it). */
function addCopyButtons(root: HTMLElement): void {
  for (const pre of root.querySelectorAll('pre')) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'btn btn-small code-copy';
    button.textContent = t('chat.copy');
    button.addEventListener('click', () => {
      const code = pre.querySelector('code')?.textContent ?? '';
      void copyText(code).then(
        () => (button.textContent = t('chat.copied')),
        () => {},
      );
    });
    pre.prepend(button);
  }
}

/**
 * An answer's markdown, rendered. While it streams, the text changes with every token; it is
 * parsed at most once per animation frame, with the latest text, so a long answer stays cheap.
 */
export function Markdown(props: { text: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const latest = useRef(props.text);
  const frame = useRef<number | undefined>(undefined);
  latest.current = props.text;

  useEffect(() => {
    if (frame.current !== undefined) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = undefined;
      const root = ref.current;
      if (root === null) return;
      root.innerHTML = renderMarkdown(latest.current);
      addCopyButtons(root);
      root.dataset.rendered = String(latest.current.length);
    });
  }, [props.text]);

  useEffect(
    () => () => {
      if (frame.current !== undefined) cancelAnimationFrame(frame.current);
    },
    [],
  );

  return <div ref={ref} class="bubble-text markdown" />;
}
