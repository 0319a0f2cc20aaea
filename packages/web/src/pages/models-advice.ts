/**
 * The placement advice in the UI's language, from the structured verdicts of
 * GET /allerac/v1/models/home (the node's `advice` text is English only).
 */
import type { HomeMachine, HomeModel } from '@allerac/node';
import { formatBytes } from '../format.js';
import { t } from '../i18n.js';

/** The advice for one model: where it should live, what smaller machines should run instead, and warnings. */
export function adviceFor(
  model: HomeModel,
  machines: readonly HomeMachine[],
): { text: string; warnings: string[] } {
  const byId = new Map(machines.map((m) => [m.id, m]));
  if (model.sizeSource === 'unknown')
    return { text: t('models.adviceUnknown', { model: model.name }), warnings: [] };
  const needed = formatBytes(model.cells[0]?.neededBytes ?? model.sizeBytes);
  const parts: string[] = [];
  const best = model.best === undefined ? undefined : byId.get(model.best);
  const bestCell = model.cells.find((c) => c.node === model.best);
  if (best !== undefined && bestCell !== undefined) {
    const vars = { model: model.name, size: needed, node: best.name, free: formatBytes(bestCell.freeBytes) };
    const key = bestCell.loaded
      ? 'models.adviceLoaded'
      : bestCell.present
        ? 'models.adviceThere'
        : best.gpuCount > 0
          ? 'models.adviceBestGpu'
          : 'models.adviceBest';
    parts.push(t(key, vars));
  } else {
    parts.push(t('models.adviceNowhere', { model: model.name, size: needed }));
  }
  for (const cell of model.cells) {
    const machine = byId.get(cell.node);
    if (machine === undefined || cell.alternative === undefined) continue;
    parts.push(
      t(machine.gpuCount > 0 ? 'models.adviceAlternativeGpu' : 'models.adviceAlternative', {
        node: machine.name,
        ram: formatBytes(machine.ramTotalBytes),
        model: cell.alternative,
      }),
    );
  }
  const warnings = model.cells.flatMap((cell) => {
    const machine = byId.get(cell.node);
    if (machine === undefined || cell.verdict !== 'too-big' || cell.present) return [];
    const capacity = machine.gpuCount > 0 ? machine.vramTotalBytes : machine.ramTotalBytes;
    return [
      t(cell.memory === 'vram' ? 'models.warnFreezeVram' : 'models.warnFreeze', {
        model: model.name,
        node: machine.name,
        size: needed,
        capacity: formatBytes(capacity),
      }),
    ];
  });
  return { text: parts.join(' '), warnings };
}
