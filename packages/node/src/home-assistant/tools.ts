/**
 * The Home Assistant tools: list the devices (of an area), read one state, call a service. A
 * service call is an action, and only in the domains the agent's `homeAssistantDomains` lists;
 * every entity it targets must be in those domains too, so `homeassistant.turn_off` cannot reach
 * a lock through a light-only agent.
 */
import { Type } from '@sinclair/typebox';
import { Closed } from '../contract/schema.js';
import { ToolRefusedError } from '../tools/errors.js';
import { defineTool, type Tool } from '../tools/tool.js';
import type { HaStateObject, HomeAssistantClient } from './client.js';

/** Where the tools get the client: the current settings, or HomeAssistantNotConfiguredError. */
export interface HomeAssistantToolsComponents {
  client(): Promise<HomeAssistantClient>;
  /** The domains this node's admin lets assistants act in (the agent's own list is checked too). */
  actionDomains(): readonly string[];
}

/** HA's entity id: `<domain>.<object_id>` (homeassistant/core.py VALID_ENTITY_ID, simplified). */
const ENTITY_ID = Type.String({ pattern: '^[a-z0-9_]+\\.[a-z0-9_]+$', maxLength: 255 });
const DOMAIN = Type.String({ pattern: '^[a-z0-9_]+$', maxLength: 64 });

/** Service data keys that pick targets: targets go through `entity_id` only, which is checked. */
const TARGET_KEYS = ['entity_id', 'area_id', 'device_id', 'floor_id', 'label_id'];

/** The state objects as the model sees them: what it needs to answer, without contexts. */
function summary(state: HaStateObject) {
  const name = state.attributes.friendly_name;
  return {
    entity_id: state.entity_id,
    ...(typeof name === 'string' ? { name } : {}),
    state: state.state,
  };
}

/** The three Home Assistant tools. */
export function createHomeAssistantTools(components: HomeAssistantToolsComponents): Tool[] {
  const listDevices = defineTool({
    name: 'ha.list_devices',
    description:
      'Lists the devices (entities) in the home with their state, optionally only those of one area (by name, such as "Kitchen", or id).',
    parameters: Closed({ area: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) }),
    action: false,
    async run({ area }, { signal }) {
      const client = await components.client();
      const states = await client.states(signal);
      if (area === undefined) return states.map(summary);
      const inArea = new Set(await client.areaEntities(area, signal));
      if (inArea.size === 0) {
        return {
          devices: [],
          note: `no devices in an area named ${area}`,
          areas: await client.areas(signal),
        };
      }
      return states.filter((state) => inArea.has(state.entity_id)).map(summary);
    },
  });

  const getState = defineTool({
    name: 'ha.get_state',
    description: 'Reads the current state and attributes of one entity, such as light.kitchen_ceiling.',
    parameters: Closed({ entity_id: ENTITY_ID }),
    action: false,
    async run({ entity_id }, { signal }) {
      const state = await (await components.client()).state(entity_id, signal);
      return {
        entity_id: state.entity_id,
        state: state.state,
        attributes: state.attributes,
        last_changed: state.last_changed,
      };
    },
  });

  const callService = defineTool({
    name: 'ha.call_service',
    description:
      'Calls a Home Assistant service on one entity, e.g. domain "light", service "turn_off", entity_id "light.kitchen_ceiling"; data holds extra fields such as brightness.',
    parameters: Closed({
      domain: DOMAIN,
      service: Type.String({ pattern: '^[a-z0-9_]+$', maxLength: 64 }),
      entity_id: ENTITY_ID,
      data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    }),
    action: true,
    async run({ domain, service, entity_id, data }, { agent, signal }) {
      const allowed = agent.tools.homeAssistantDomains;
      const list = allowed.length === 0 ? 'none' : allowed.join(', ');
      if (!allowed.includes(domain)) {
        throw new ToolRefusedError(
          `the Home Assistant domain ${domain} is not one this assistant may control (allowed: ${list}); tell the user it was not done`,
        );
      }
      const entityDomain = entity_id.split('.')[0]!;
      if (!allowed.includes(entityDomain)) {
        throw new ToolRefusedError(
          `${entity_id} is in the domain ${entityDomain}, which this assistant may not control (allowed: ${list}); tell the user it was not done`,
        );
      }
      const targets = Object.keys(data ?? {}).filter((key) => TARGET_KEYS.includes(key));
      if (targets.length > 0) {
        throw new ToolRefusedError(`name the target in entity_id, not in data (${targets.join(', ')})`);
      }
      const consented = components.actionDomains();
      if (!consented.includes(domain) || !consented.includes(entity_id.split('.')[0] as string)) {
        throw new ToolRefusedError(
          `this node's Home Assistant settings do not let assistants act in the domain of ${domain}.${service} on ${entity_id} (allowed here: ${consented.join(', ') || 'none'}); tell the user it was not done, and that an admin can allow it in Settings`,
        );
      }
      const client = await components.client();
      const changed = await client.callService(domain, service, { ...data, entity_id }, signal);
      return {
        called: `${domain}.${service}`,
        entity_id,
        changed: changed.map(summary),
        ...(changed.length === 0 ? { note: 'no state changed: it may have been in that state already' } : {}),
      };
    },
  });

  return [listDevices, getState, callService];
}
