import { describe, expect, it } from 'vitest';
import { decideWake, type SleeperOption } from '../src/wake/wake-decision.js';

const gaming: SleeperOption = {
  id: 'p-gaming',
  name: 'gaming-pc',
  canServe: true,
  estimateMs: 6_000,
  wakeable: true,
  preferredWhenOn: false,
};
const base = { wakeEnabled: true, patienceMs: 20_000 };

describe('decideWake', () => {
  it('should wake the only machine that holds the model', () => {
    const verdict = decideWake({ ...base, awake: undefined, sleepers: [gaming] });
    expect(verdict).toEqual({
      action: 'wake',
      peer: gaming,
      reason: 'woke gaming-pc: no awake node can serve it',
    });
  });

  it('should wake a preferred machine when the awake best is past the patience', () => {
    const preferred = { ...gaming, preferredWhenOn: true, estimateMs: 40_000 };
    const verdict = decideWake({
      ...base,
      awake: { nodeName: 'mini', estimateMs: 30_000 },
      sleepers: [preferred],
    });
    expect(verdict.action).toBe('wake');
    expect(verdict.reason).toBe(
      'woke gaming-pc: it is preferred when on; mini would take est. 30.0 s, past the patience of 20.0 s',
    );
  });

  it('should wake a clearly faster machine, and not one only a little faster', () => {
    const awake = { nodeName: 'mini', estimateMs: 60_000 };
    expect(decideWake({ ...base, awake, sleepers: [{ ...gaming, estimateMs: 30_000 }] }).reason).toBe(
      'woke gaming-pc: it is clearly faster (est. 30.0 s against 60.0 s on mini); mini would take est. 60.0 s, past the patience of 20.0 s',
    );
    expect(decideWake({ ...base, awake, sleepers: [{ ...gaming, estimateMs: 31_000 }] })).toEqual({
      action: 'serve',
      reason: undefined,
    });
  });

  it('should serve at once, and say why, when an awake node answers within the patience', () => {
    const verdict = decideWake({
      ...base,
      awake: { nodeName: 'mini', estimateMs: 8_000 },
      sleepers: [{ ...gaming, preferredWhenOn: true }],
    });
    expect(verdict).toEqual({
      action: 'serve',
      reason: 'gaming-pc is asleep; mini serves within the patience of 20.0 s (est. 8.0 s)',
    });
  });

  it('should serve at once with the reason when waking is off', () => {
    const verdict = decideWake({
      ...base,
      wakeEnabled: false,
      patienceMs: 0,
      awake: { nodeName: 'mini', estimateMs: 8_000 },
      sleepers: [{ ...gaming, preferredWhenOn: true }],
    });
    expect(verdict).toEqual({
      action: 'serve',
      reason:
        'gaming-pc is asleep and it is preferred when on, but waking is off on this node (wake.enabled)',
    });
  });

  it('should not wake a machine that cannot be woken or cannot serve, and prefer the preferred one', () => {
    expect(decideWake({ ...base, awake: undefined, sleepers: [{ ...gaming, canServe: false }] })).toEqual({
      action: 'serve',
      reason: undefined,
    });
    expect(decideWake({ ...base, awake: undefined, sleepers: [{ ...gaming, wakeable: false }] }).reason).toBe(
      'gaming-pc could serve it but is asleep and cannot be woken (Wake-on-LAN off or no MAC)',
    );
    const laptop = { ...gaming, id: 'p-laptop', name: 'laptop', estimateMs: 1_000 };
    const preferred = { ...gaming, preferredWhenOn: true };
    const verdict = decideWake({ ...base, awake: undefined, sleepers: [laptop, preferred] });
    expect(verdict.action === 'wake' && verdict.peer.id).toBe('p-gaming');
    const fastest = decideWake({ ...base, awake: undefined, sleepers: [gaming, laptop] });
    expect(fastest.action === 'wake' && fastest.peer.id).toBe('p-laptop');
  });
});
