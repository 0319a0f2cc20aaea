/** The default home: three areas with the device kinds a home-automation agent must handle. */
import type { HaHome } from './types.js';

/** Kitchen, living room and bedroom: lights, a switch, a thermostat, a lock, a cover, a speaker. */
export const DEFAULT_HOME: HaHome = {
  location_name: 'Home',
  areas: [
    { id: 'kitchen', name: 'Kitchen' },
    { id: 'living_room', name: 'Living Room' },
    { id: 'bedroom', name: 'Bedroom' },
  ],
  entities: [
    {
      entity_id: 'light.kitchen_ceiling',
      state: 'off',
      area: 'kitchen',
      attributes: {
        supported_color_modes: ['brightness'],
        color_mode: null,
        brightness: null,
        friendly_name: 'Kitchen Ceiling',
        supported_features: 0,
      },
    },
    {
      entity_id: 'switch.kitchen_kettle',
      state: 'off',
      area: 'kitchen',
      attributes: { friendly_name: 'Kitchen Kettle' },
    },
    {
      entity_id: 'light.living_room_lamp',
      state: 'on',
      area: 'living_room',
      attributes: {
        supported_color_modes: ['brightness'],
        color_mode: 'brightness',
        brightness: 180,
        friendly_name: 'Living Room Lamp',
        supported_features: 0,
      },
    },
    {
      entity_id: 'climate.living_room_thermostat',
      state: 'heat',
      area: 'living_room',
      attributes: {
        hvac_modes: ['off', 'heat', 'cool', 'auto'],
        min_temp: 7,
        max_temp: 35,
        target_temp_step: 0.5,
        current_temperature: 19.5,
        temperature: 21,
        friendly_name: 'Living Room Thermostat',
        supported_features: 385,
      },
    },
    {
      entity_id: 'cover.living_room_blinds',
      state: 'closed',
      area: 'living_room',
      attributes: {
        current_position: 0,
        device_class: 'blind',
        friendly_name: 'Living Room Blinds',
        supported_features: 15,
      },
    },
    {
      entity_id: 'media_player.living_room_speaker',
      state: 'off',
      area: 'living_room',
      attributes: {
        volume_level: 0.3,
        is_volume_muted: false,
        friendly_name: 'Living Room Speaker',
        supported_features: 21437,
      },
    },
    {
      entity_id: 'light.bedroom_bedside',
      state: 'off',
      area: 'bedroom',
      attributes: {
        supported_color_modes: ['brightness'],
        color_mode: null,
        brightness: null,
        friendly_name: 'Bedroom Bedside',
        supported_features: 0,
      },
    },
    {
      entity_id: 'lock.front_door',
      state: 'locked',
      attributes: { friendly_name: 'Front Door', supported_features: 0 },
    },
  ],
};
