/**
 * The home's models against its machines: this node and each online peer, from their cards (the
 * hardware and the models their Ollama holds and has loaded), with the placement advice of
 * @allerac/router and the copies under way. Also the delete that guards the home's last copy.
 */
import type { HardwareInfo, ModelInfo, NodeCard } from '@allerac/protocol';
import { type AdviceMachine, type AdviceModel, adviseModel, normalizeModelName } from '@allerac/router';
import type { HomeMachine, HomeModel, HomeModels, HomeTransfer } from '../contract/models-home.js';
import { ConflictError } from '../errors.js';
import type { ModelManagement } from '../inference/model-management.js';

/** One machine's card as the matrix reads it. */
export interface HomeMachineCard {
  id: string;
  name: string;
  self: boolean;
  backendUp: boolean;
  hardware: HardwareInfo;
  models: ModelInfo[];
}

/** A copy or pull under way onto one machine (GET /allerac/v1/models/transfers lists this node's). */
export interface ModelTransferView extends HomeTransfer {
  model: string;
  /** Machine id or name it goes to. */
  target: string;
}

/** Injected dependencies. */
export interface HomeModelsComponents {
  /** This node's card and every online peer's. */
  machines(): Promise<HomeMachineCard[]>;
  /** Transfers under way in the home; none when no transfer service runs. */
  transfers?: () => Promise<ModelTransferView[]>;
  models: Pick<ModelManagement, 'resolve' | 'complete'>;
}

/** Deleting the home's last copy of a model needs `confirm`. */
export class LastCopyError extends ConflictError {
  override name = 'LastCopyError';
  constructor(
    readonly model: string,
    readonly node: string,
  ) {
    super(
      `${node} holds the home's last copy of ${model}: deleting it means downloading it again from the internet; send "confirm": true to delete it anyway`,
      { code: 'last_copy' },
    );
  }
}

/** The model manager's reads and guarded delete. */
export class HomeModelsService {
  constructor(private readonly components: HomeModelsComponents) {}

  /** The matrix; `extraModel` adds a model the home may not hold, to advise before pulling it. */
  async list(extraModel?: string): Promise<HomeModels> {
    const cards = await this.components.machines();
    const transfers = (await this.components.transfers?.().catch(() => [])) ?? [];
    const machines = cards.map(toMachine);
    const adviceMachines = cards.map(toAdviceMachine);
    const catalogue = catalogueOf(cards);
    if (extraModel !== undefined && !catalogue.some((m) => sameModel(m.name, extraModel))) {
      catalogue.push({ name: extraModel });
    }
    const models = catalogue.map((model): HomeModel => {
      const advice = adviseModel(model, adviceMachines, catalogue);
      const byId = new Map(advice.machines.map((m) => [m.id, m]));
      const cells = cards.map((card) => {
        const m = byId.get(card.id)!;
        const transfer = transfers.find(
          (t) =>
            sameModel(t.model, model.name) &&
            (t.target === card.id || t.target === card.name) &&
            t.status !== 'done' &&
            t.status !== 'failed',
        );
        return {
          node: card.id,
          present: m.present,
          loaded: m.loaded,
          verdict: m.verdict,
          neededBytes: m.fit.neededBytes,
          freeBytes: m.fit.freeBytes,
          memory: m.fit.memory,
          shortBytes: m.fit.shortBytes,
          ...(m.alternative !== undefined ? { alternative: m.alternative } : {}),
          ...(transfer !== undefined ? { transfer: transferOf(transfer) } : {}),
        };
      });
      return {
        name: model.name,
        sizeBytes: advice.sizeBytes,
        sizeSource: advice.sizeSource,
        parameterSize: model.parameterSize ?? '',
        copies: cells.filter((c) => c.present).length,
        cells,
        ...(advice.best !== undefined ? { best: advice.best.id } : {}),
        advice: advice.text,
        warnings: advice.warnings,
      };
    });
    models.sort((a, b) => b.sizeBytes - a.sizeBytes || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { machines, models };
  }

  /**
   * Deletes `model` on `node`; refuses the home's last copy unless `confirm`. Only online
   * machines count: a sleeping one's copy cannot be copied from until it wakes.
   */
  async delete(
    model: string,
    node: string,
    confirm: boolean,
    signal: AbortSignal,
  ): Promise<{ model: string; node: string; copiesLeft: number }> {
    const target = this.components.models.resolve(node);
    const cards = await this.components.machines();
    const holders = cards.filter((card) => card.models.some((m) => sameModel(m.name, model)));
    const others = holders.filter((card) => card.name !== target.name).length;
    if (others === 0 && holders.length > 0 && !confirm) throw new LastCopyError(model, target.name);
    await this.components.models.complete(target, 'delete', { model }, signal);
    return { model, node: target.name, copiesLeft: others };
  }
}

function sameModel(a: string, b: string): boolean {
  return normalizeModelName(a) === normalizeModelName(b);
}

function transferOf(t: ModelTransferView): HomeTransfer {
  return {
    id: t.id,
    source: t.source,
    completed: t.completed,
    total: t.total,
    status: t.status,
    ...(t.error !== undefined ? { error: t.error } : {}),
  };
}

function gpusOf(hardware: HardwareInfo) {
  return hardware.gpus.filter((gpu) => gpu.vramTotal > 0);
}

function toMachine(card: HomeMachineCard): HomeMachine {
  const gpus = gpusOf(card.hardware);
  return {
    id: card.id,
    name: card.name,
    self: card.self,
    ramTotalBytes: card.hardware.ramTotal,
    ramFreeBytes: card.hardware.ramFree,
    gpuCount: gpus.length,
    vramTotalBytes: gpus.reduce((sum, gpu) => sum + gpu.vramTotal, 0),
    vramFreeBytes: gpus.reduce((sum, gpu) => sum + gpu.vramFree, 0),
    backendUp: card.backendUp,
  };
}

function toAdviceMachine(card: HomeMachineCard): AdviceMachine {
  const machine = toMachine(card);
  return {
    id: machine.id,
    name: machine.name,
    ramTotalBytes: machine.ramTotalBytes,
    ramFreeBytes: machine.ramFreeBytes,
    gpuCount: machine.gpuCount,
    vramTotalBytes: machine.vramTotalBytes,
    vramFreeBytes: machine.vramFreeBytes,
    models: card.models.map((m) => ({ name: m.name, sizeBytes: m.sizeBytes, loaded: m.loaded })),
  };
}

/** Every model of the home once, with the largest size any machine reports. */
function catalogueOf(cards: readonly HomeMachineCard[]): AdviceModel[] {
  const byName = new Map<string, AdviceModel>();
  for (const model of cards.flatMap((c) => c.models)) {
    const seen = byName.get(model.name);
    if (seen !== undefined && (seen.sizeBytes ?? 0) >= model.sizeBytes) continue;
    byName.set(model.name, {
      name: model.name,
      sizeBytes: model.sizeBytes,
      ...(model.parameterSize !== '' ? { parameterSize: model.parameterSize } : {}),
      ...(model.family !== '' ? { family: model.family } : {}),
      ...(model.capabilities !== undefined ? { capabilities: model.capabilities } : {}),
    });
  }
  return [...byName.values()];
}

/** What the daemon has that the matrix reads. */
export interface HomeModelsSources {
  nodeName: () => string;
  backendUp: () => boolean;
  hardware: () => Promise<HardwareInfo>;
  /** This node's models, loaded ones marked. */
  localModels: () => Promise<ModelInfo[]>;
  /** The running mesh, absent before it starts. */
  mesh: () =>
    | { peerId: string; peers(): Array<{ id: string; name: string; status: string; card: NodeCard }> }
    | undefined;
  models: HomeModelsComponents['models'];
  transfers?: HomeModelsComponents['transfers'];
}

/** The service over this node's own readings and its peers' cards. */
export function createHomeModels(sources: HomeModelsSources): HomeModelsService {
  return new HomeModelsService({
    models: sources.models,
    ...(sources.transfers !== undefined ? { transfers: sources.transfers } : {}),
    machines: async () => {
      const [hardware, models] = await Promise.all([sources.hardware(), sources.localModels()]);
      const mesh = sources.mesh();
      const self: HomeMachineCard = {
        id: mesh?.peerId ?? 'local',
        name: sources.nodeName(),
        self: true,
        backendUp: sources.backendUp(),
        hardware,
        models,
      };
      const peers = (mesh?.peers() ?? [])
        .filter((peer) => peer.status === 'online')
        .map(
          (peer): HomeMachineCard => ({
            id: peer.id,
            name: peer.name,
            self: false,
            backendUp: peer.card.backend.state === 'up',
            hardware: peer.card.hardware,
            models: peer.card.models,
          }),
        );
      return [self, ...peers];
    },
  });
}
