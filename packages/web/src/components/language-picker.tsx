import { LANGUAGE_CODES, LANGUAGE_NAMES, type Language, language, setLanguage, t } from '../i18n.js';
import { useSignal } from '../signal.js';

/** A compact language switch. */
export function LanguagePicker(props: { onChange?: (language: Language) => void }) {
  const current = useSignal(language);
  return (
    <label class="field inline language-picker">
      <span>{t('common.language')}</span>
      <select
        value={current}
        onChange={(event) => {
          setLanguage(event.currentTarget.value);
          props.onChange?.(event.currentTarget.value as Language);
        }}
      >
        {LANGUAGE_CODES.map((code) => (
          <option key={code} value={code} lang={code}>
            {LANGUAGE_NAMES[code]}
          </option>
        ))}
      </select>
    </label>
  );
}
