import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { t } from '../i18n.js';

/** A modal confirmation built on <dialog>, so focus and Escape behave natively. */
export function ConfirmDialog(props: {
  message: string;
  /** More than a sentence: a command to run, a list. */
  children?: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog !== null && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="confirm-text" onCancel={props.onCancel}>
      <p id="confirm-text">{props.message}</p>
      {props.children}
      <div class="row end">
        <button type="button" class="btn" onClick={props.onCancel}>
          {t('common.cancel')}
        </button>
        <button
          type="button"
          class={props.danger === true ? 'btn btn-danger' : 'btn btn-primary'}
          onClick={props.onConfirm}
        >
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
