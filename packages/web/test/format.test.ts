import { afterEach, describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatDate,
  formatDuration,
  formatPercent,
  formatRelative,
  intlLocale,
} from '../src/format.js';
import { language, matchLanguage, t } from '../src/i18n.js';

/** 1 December 2026, 09:05 UTC: a day below 13, so day-first and month-first orders differ. */
const DAY = Date.UTC(2026, 11, 1, 9, 5);

describe('language and locale', () => {
  afterEach(() => {
    language.value = 'en';
  });

  it('should pick pt-BR for a Brazilian browser and European Portuguese for other Portuguese', () => {
    expect(matchLanguage(['pt-BR', 'en-US'])).toBe('pt-BR');
    expect(matchLanguage(['pt-PT'])).toBe('pt');
    expect(matchLanguage(['pt-AO'])).toBe('pt');
    expect(matchLanguage(['pt'])).toBe('pt');
    expect(matchLanguage(['fr-FR', 'es-MX'])).toBe('es');
    expect(matchLanguage(['fr-FR', 'de'])).toBeUndefined();
  });

  it('should fall back from pt-BR to pt, then to en', () => {
    language.value = 'pt-BR';
    expect(t('login.password')).toBe('Senha');
    expect(t('nav.settings')).toBe('Configurações');
    // Not overridden for Brazil: Portugal's word.
    expect(t('nav.memories')).toBe('Memórias');
    language.value = 'pt';
    expect(t('login.password')).toBe('Palavra-passe');
  });

  it("should format in the browser's variant of the chosen language, else the language's own region", () => {
    expect(intlLocale('en', ['en-GB', 'pt-BR'])).toBe('en-GB');
    expect(intlLocale('en', ['pt-BR'])).toBe('en-US');
    // Intl's plain "pt" is Brazil: European Portuguese must name a region.
    expect(intlLocale('pt', ['pt'])).toBe('pt-PT');
    expect(intlLocale('pt', ['pt-BR'])).toBe('pt-PT');
    expect(intlLocale('pt-BR', ['pt-PT', 'pt-BR'])).toBe('pt-BR');
    expect(intlLocale('es', ['es-MX'])).toBe('es-MX');
  });

  it('should write dates, sizes, shares and durations the way the chosen language does', () => {
    language.value = 'pt-BR';
    expect(formatDate(new Date(DAY))).toBe('01/12/2026');
    expect(formatBytes(1.5 * 1024 ** 3)).toBe('1,5 GB');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatPercent(42.5)).toBe('42,5%');
    expect(formatRelative(DAY - 5 * 60_000, DAY)).toBe('há 5 minutos');
    language.value = 'es';
    expect(formatRelative(DAY - 5 * 60_000, DAY)).toBe('hace 5 minutos');
    expect(formatBytes(1.5 * 1024 ** 3)).toBe('1,5 GB');
    language.value = 'en';
    expect(formatBytes(1.5 * 1024 ** 3)).toBe('1.5 GB');
    expect(formatDuration(3 * 86400 + 4 * 3600 + 5 * 60)).toBe('3d 4h');
    expect(formatDuration(59)).toBe('0m');
    expect(formatDate('not a date')).toBe('—');
    expect(formatBytes(undefined)).toBe('—');
  });
});
