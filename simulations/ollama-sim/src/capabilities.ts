/**
 * Capabilities as Ollama derives and checks them (server/images.go): the weights give completion
 * or embedding and vision; the template gives tools (it uses `.Tools`), insert (`.Suffix`) and
 * thinking (`.Thinking` inside the range over `.Messages`, which thinking.InferTags looks for).
 */
import { OllamaApiError } from './errors.js';
import type { Capability } from './types.js';

const FROM_WEIGHTS: readonly Capability[] = ['completion', 'embedding', 'vision'];
const FROM_TEMPLATE: readonly Capability[] = ['tools', 'insert', 'thinking'];

function unique(capabilities: Capability[]): Capability[] {
  return [...new Set(capabilities)];
}

/** The capabilities a Go template grants, approximating goTemplateCapabilities. */
export function templateCapabilities(template: string): Capability[] {
  const found: Capability[] = [];
  // Template.Vars() lowercases identifiers, so `.Tools` and `.tools` count alike.
  if (/\.tools\b/i.test(template)) found.push('tools');
  if (/\.suffix\b/i.test(template)) found.push('insert');
  if (/\{\{-?\s*range\s[^}]*\.Messages\b/.test(template) && /\.Thinking\b/.test(template)) {
    found.push('thinking');
  }
  return found;
}

/** A template in the shape of the library's chat templates that grants exactly `capabilities`. */
export function templateFor(capabilities: readonly Capability[]): string {
  if (!capabilities.includes('completion')) return '{{ .Prompt }}';
  const thinking = capabilities.includes('thinking');
  const tools = capabilities.includes('tools');
  const chat =
    '{{- if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}' +
    (tools
      ? '{{- if .Tools }}<|start_header_id|>tools<|end_header_id|>\n\n{{ range .Tools }}{{ . }}\n{{ end }}<|eot_id|>{{ end }}'
      : '') +
    '{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n' +
    (thinking ? '{{- if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}' : '') +
    '{{ .Content }}' +
    (tools
      ? '{{- range .ToolCalls }}{"name": "{{ .Function.Name }}", "arguments": {{ .Function.Arguments }}}{{ end }}'
      : '') +
    '<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n';
  if (!capabilities.includes('insert')) return chat;
  return `{{- if .Suffix }}<|fim_prefix|>{{ .Prompt }}<|fim_suffix|>{{ .Suffix }}<|fim_middle|>{{- else }}${chat}{{- end }}`;
}

/**
 * What an installed model can do: capabilities its config declares, those of its weights, then
 * those of its template, in the order Model.Capabilities() appends them.
 */
export function modelCapabilities(
  weights: readonly Capability[],
  template: string,
  declared: readonly Capability[] = [],
): Capability[] {
  return unique([
    ...declared,
    ...weights.filter((c) => FROM_WEIGHTS.includes(c)),
    ...templateCapabilities(template),
  ]);
}

/** The capabilities that come with the weights, whatever template a model is given. */
export function weightCapabilities(capabilities: readonly Capability[]): Capability[] {
  return capabilities.filter((c) => !FROM_TEMPLATE.includes(c));
}

/**
 * CheckCapabilities as scheduleRunner reports it: `<full name> does not support tools`, the
 * missing ones joined by newlines (errors.Join). Missing completion is reported by the handler
 * itself as `"<model>" does not support chat|generate`, so it is left to the caller.
 */
export function missingCapabilities(have: readonly Capability[], want: readonly Capability[]): Capability[] {
  return want.filter((c) => !have.includes(c));
}

/** The 400 scheduleRunner's capability error becomes in handleScheduleError. */
export function capabilityError(fullName: string, missing: readonly Capability[]): OllamaApiError {
  return new OllamaApiError(400, `${fullName} does not support ${missing.join('\n')}`);
}
