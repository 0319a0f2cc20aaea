/**
 * Markdown of an answer to safe HTML: marked (GFM: tables, lists, links) with highlight.js for
 * code, then DOMPurify. Only a few common languages are registered, so the bundle stays small;
 * any other fence is shown as plain, escaped text.
 */
import DOMPurify from 'dompurify';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import plaintext from 'highlight.js/lib/languages/plaintext';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import { Marked } from 'marked';
import { markedHighlight } from 'marked-highlight';

const LANGUAGES = {
  bash,
  css,
  diff,
  go,
  javascript,
  json,
  plaintext,
  python,
  rust,
  sql,
  typescript,
  xml,
  yaml,
};
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);

const marked = new Marked(
  markedHighlight({
    emptyLangClass: 'hljs',
    langPrefix: 'hljs language-',
    highlight(code, lang) {
      const language = hljs.getLanguage(lang) === undefined ? 'plaintext' : lang;
      return hljs.highlight(code, { language }).value;
    },
  }),
  { gfm: true, async: false },
);

// A DOMPurify of our own, so its link hook touches nothing else on the page.
const purify = DOMPurify(window);
purify.addHook('afterSanitizeAttributes', (node) => {
  // Links in an answer open apart from the chat and never tell the target where they came from.
  if (node.tagName === 'A' && node.hasAttribute('href')) {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

/** The answer's markdown as sanitised HTML (no scripts, handlers or foreign frames). */
export function renderMarkdown(text: string): string {
  const html = marked.parse(text, { async: false });
  return purify.sanitize(html, { USE_PROFILES: { html: true } }).trim();
}
