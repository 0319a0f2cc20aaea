/**
 * The home's model manager: every model of the home against every machine. Each cell says whether
 * the model is there, loaded, would fit, or by how much it would not; a pull or a copy shows its
 * progress in the cell; each model row carries the placement advice.
 */
import type { HomeMachine, HomeModel, HomeModelCell, HomeModels } from '@allerac/node';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { ProgressBar } from '../components/chart.js';
import { ConfirmDialog } from '../components/confirm.js';
import { toast } from '../components/toast.js';
import { formatBytes } from '../format.js';
import { t } from '../i18n.js';
import { adviceFor } from './models-advice.js';
import { type PullSource, type PullStep, pullModel } from './models-pull.js';

/** How often the matrix is read again while a copy runs elsewhere (its progress lives on the node). */
const TRANSFER_POLL_MS = 2_000;

const cellKey = (model: string, node: string) => `${model}\u0000${node}`;

/** What `allerac.node` names for a machine: a peer by id, this node by its name. */
const nodeArg = (machine: HomeMachine) => (machine.self ? machine.name : machine.id);

type Pending =
  | { kind: 'delete'; model: HomeModel; machine: HomeMachine }
  | { kind: 'pull'; model: HomeModel; machine: HomeMachine; source: PullSource; warning: string };

/** The Models page. */
export function ModelsPage() {
  const [home, setHome] = useState<HomeModels | undefined>();
  const [failed, setFailed] = useState<string | undefined>();
  const [wanted, setWanted] = useState('');
  const [extra, setExtra] = useState<string | undefined>();
  const [pulls, setPulls] = useState<ReadonlyMap<string, PullStep>>(new Map());
  const [pending, setPending] = useState<Pending | undefined>();

  const load = useCallback(async () => {
    try {
      const query = extra === undefined ? '' : `?model=${encodeURIComponent(extra)}`;
      setHome(await api<HomeModels>(`/allerac/v1/models/home${query}`));
      setFailed(undefined);
    } catch (error) {
      setFailed((error as Error).message);
    }
  }, [extra]);
  useEffect(() => void load(), [load]);

  // A copy started elsewhere (the CLI, another tab) reports through the matrix: read it again while one runs.
  const copying = home?.models.some((m) => m.cells.some((c) => c.transfer !== undefined)) === true;
  useEffect(() => {
    if (!copying) return;
    const timer = setInterval(() => void load(), TRANSFER_POLL_MS);
    return () => clearInterval(timer);
  }, [copying, load]);

  const setStep = (key: string, step: PullStep | undefined) =>
    setPulls((current) => {
      const next = new Map(current);
      if (step === undefined) next.delete(key);
      else next.set(key, step);
      return next;
    });

  const pull = async (model: HomeModel, machine: HomeMachine, source: PullSource) => {
    const key = cellKey(model.name, machine.id);
    setStep(key, { status: t('models.starting') });
    try {
      await pullModel(model.name, nodeArg(machine), source, (step) => setStep(key, step));
      toast(t('models.pulled', { model: model.name, node: machine.name }), 'info');
    } catch (error) {
      toast(t('models.pullFailed', { model: model.name, message: (error as Error).message }), 'error');
    } finally {
      setStep(key, undefined);
      await load();
    }
  };

  const remove = async (model: HomeModel, machine: HomeMachine) => {
    try {
      // The server refuses the last copy without `confirm`; the dialog already asked.
      await api('/allerac/v1/models/home/delete', {
        body: { model: model.name, node: nodeArg(machine), confirm: true },
      });
      toast(t('models.deleted', { model: model.name, node: machine.name }), 'info');
    } catch (error) {
      toast(t('common.error', { message: (error as Error).message }), 'error');
    }
    await load();
  };

  const askPull = (model: HomeModel, machine: HomeMachine, source: PullSource) => {
    const cell = model.cells.find((c) => c.node === machine.id);
    const warning = adviceFor(model, home?.machines ?? []).warnings.find((w) => w.includes(machine.name));
    // A pull that would freeze the box, or not load now, is confirmed with the reason in view.
    if (cell !== undefined && (cell.verdict === 'too-big' || cell.verdict === 'not-now')) {
      setPending({
        kind: 'pull',
        model,
        machine,
        source,
        warning: warning ?? adviceFor(model, home?.machines ?? []).text,
      });
      return;
    }
    void pull(model, machine, source);
  };

  const find = (event: Event) => {
    event.preventDefault();
    const name = wanted.trim();
    if (name !== '') setExtra(name);
  };

  return (
    <div class="page">
      <header class="page-head">
        <div>
          <h1 class="page-title">{t('models.title')}</h1>
          <p class="muted">{t('models.subtitle')}</p>
        </div>
      </header>
      <form class="card row wrap models-find" onSubmit={find} data-testid="models-find">
        <label class="field grow">
          <span>{t('models.findLabel')}</span>
          <input
            value={wanted}
            placeholder="llama3.1:8b"
            onInput={(e) => setWanted(e.currentTarget.value)}
            data-testid="models-find-input"
          />
        </label>
        <button type="submit" class="btn">
          {t('models.findButton')}
        </button>
      </form>
      {failed !== undefined && (
        <p class="alert alert-error" role="alert">
          {t('common.error', { message: failed })}
        </p>
      )}
      {home === undefined && failed === undefined && <p class="muted">{t('common.loading')}</p>}
      {home !== undefined && home.models.length === 0 && <p class="muted empty">{t('models.empty')}</p>}
      {home !== undefined && home.models.length > 0 && (
        <div class="card table-scroll">
          <table class="table models-matrix" data-testid="models-matrix">
            <thead>
              <tr>
                <th scope="col">{t('models.model')}</th>
                {home.machines.map((machine) => (
                  <th key={machine.id} scope="col">
                    {machine.name}
                    <span class="muted small models-machine">
                      {machine.gpuCount > 0
                        ? t('models.machineGpu', { vram: formatBytes(machine.vramFreeBytes) })
                        : t('models.machineRam', { ram: formatBytes(machine.ramFreeBytes) })}
                    </span>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {home.models.map((model) => (
                <ModelRow
                  key={model.name}
                  model={model}
                  machines={home.machines}
                  pulls={pulls}
                  onPull={askPull}
                  onDelete={(m, machine) => setPending({ kind: 'delete', model: m, machine })}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {pending?.kind === 'delete' && (
        <ConfirmDialog
          message={
            pending.model.copies <= 1
              ? t('models.deleteLastConfirm', { model: pending.model.name, node: pending.machine.name })
              : t('models.deleteConfirm', { model: pending.model.name, node: pending.machine.name })
          }
          confirmLabel={t('common.delete')}
          danger
          onCancel={() => setPending(undefined)}
          onConfirm={() => {
            setPending(undefined);
            void remove(pending.model, pending.machine);
          }}
        />
      )}
      {pending?.kind === 'pull' && (
        <ConfirmDialog
          message={pending.warning}
          confirmLabel={t('models.pullAnyway')}
          danger
          onCancel={() => setPending(undefined)}
          onConfirm={() => {
            setPending(undefined);
            void pull(pending.model, pending.machine, pending.source);
          }}
        />
      )}
    </div>
  );
}

function ModelRow(props: {
  model: HomeModel;
  machines: HomeMachine[];
  pulls: ReadonlyMap<string, PullStep>;
  onPull: (model: HomeModel, machine: HomeMachine, source: PullSource) => void;
  onDelete: (model: HomeModel, machine: HomeMachine) => void;
}) {
  const { model, machines } = props;
  const advice = adviceFor(model, machines);
  return (
    <tr data-testid="model-row" data-model={model.name}>
      <th scope="row" class="models-name">
        <span class="models-title">{model.name}</span>
        <span class="muted small">
          {model.sizeSource === 'estimated' ? '~' : ''}
          {formatBytes(model.sizeBytes)}
          {model.copies === 0 ? ` · ${t('models.notInHome')}` : ''}
        </span>
        <p class="small models-advice" data-testid="model-advice">
          {advice.text}
        </p>
        {advice.warnings.map((warning) => (
          <p key={warning} class="alert alert-warn small" data-testid="model-warning">
            {warning}
          </p>
        ))}
      </th>
      {model.cells.map((cell) => {
        const machine = machines.find((m) => m.id === cell.node);
        if (machine === undefined) return null;
        return (
          <td key={cell.node} data-label={machine.name} data-testid="model-cell" data-node={machine.name}>
            <Cell
              cell={cell}
              model={model}
              machine={machine}
              step={props.pulls.get(cellKey(model.name, machine.id))}
              onPull={props.onPull}
              onDelete={props.onDelete}
            />
          </td>
        );
      })}
    </tr>
  );
}

function Cell(props: {
  cell: HomeModelCell;
  model: HomeModel;
  machine: HomeMachine;
  step: PullStep | undefined;
  onPull: (model: HomeModel, machine: HomeMachine, source: PullSource) => void;
  onDelete: (model: HomeModel, machine: HomeMachine) => void;
}) {
  const { cell, model, machine } = props;
  const moving =
    props.step ??
    (cell.transfer !== undefined
      ? { status: cell.transfer.status, completed: cell.transfer.completed, total: cell.transfer.total }
      : undefined);
  if (moving !== undefined) {
    return (
      <div class="models-progress" data-testid="cell-progress" aria-live="polite">
        <span class="small">{moving.status}</span>
        <ProgressBar
          value={moving.status === 'success' ? 1 : (moving.completed ?? 0)}
          max={moving.status === 'success' ? 1 : (moving.total ?? 0)}
          label={t('models.progressLabel', { model: model.name, node: machine.name })}
        />
      </div>
    );
  }
  const state = stateOf(cell);
  const heldElsewhere = model.copies > (cell.present ? 1 : 0);
  return (
    <div class="models-cell">
      <span class={`badge models-state models-${state.key}`} data-testid="cell-state" data-state={state.key}>
        {state.label}
      </span>
      <div class="row wrap models-actions">
        {cell.present ? (
          <button
            type="button"
            class="btn btn-small btn-danger-text"
            onClick={() => props.onDelete(model, machine)}
            data-testid="cell-delete"
          >
            {t('common.delete')}
          </button>
        ) : (
          <>
            {heldElsewhere && (
              <button
                type="button"
                class="btn btn-small"
                onClick={() => props.onPull(model, machine, 'peer')}
                data-testid="cell-copy"
              >
                {t('models.copyPeer')}
              </button>
            )}
            <button
              type="button"
              class="btn btn-small"
              disabled={!machine.backendUp}
              onClick={() => props.onPull(model, machine, 'internet')}
              data-testid="cell-pull"
            >
              {t('models.pullInternet')}
            </button>
          </>
        )}
      </div>
    </div>
  );
}

function stateOf(cell: HomeModelCell): { key: string; label: string } {
  if (cell.loaded) return { key: 'loaded', label: t('models.loaded') };
  if (cell.present) return { key: 'present', label: t('models.present') };
  switch (cell.verdict) {
    case 'fits':
      return { key: 'fits', label: t('models.fits') };
    case 'fits-after-unload':
      return { key: 'fits-after-unload', label: t('models.fitsAfterUnload') };
    case 'not-now':
      return {
        key: 'not-now',
        label: t('models.short', { size: formatBytes(cell.neededBytes - cell.freeBytes) }),
      };
    case 'too-big':
      return { key: 'too-big', label: t('models.tooBig') };
  }
}
