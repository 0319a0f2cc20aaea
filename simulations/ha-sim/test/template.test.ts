import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHa, type TestHa } from './helpers.js';

let ha: TestHa;
beforeAll(async () => {
  ha = await startTestHa();
});
afterAll(async () => {
  await ha.sim.close();
});

async function render(template: string, variables?: Record<string, unknown>): Promise<Response> {
  return ha.post('/api/template', variables === undefined ? { template } : { template, variables });
}

describe('POST /api/template', () => {
  it('should render plain text, with lists as Python writes them', async () => {
    const res = await render("In the kitchen: {{ area_entities('kitchen') }}");
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe("In the kitchen: ['light.kitchen_ceiling', 'switch.kitchen_kettle']");
  });

  it('should look areas up by id or name, and the area of an entity', async () => {
    const cases: Array<[string, string]> = [
      ['{{ areas() | tojson }}', '["kitchen","living_room","bedroom"]'],
      [
        "{{ area_entities('Living Room') | tojson }}",
        '["light.living_room_lamp","climate.living_room_thermostat","cover.living_room_blinds","media_player.living_room_speaker"]',
      ],
      ["{{ area_name('living_room') }}", 'Living Room'],
      ["{{ area_name('light.bedroom_bedside') }}", 'Bedroom'],
      ["{{ area_id('Living Room') }}", 'living_room'],
      ["{{ area_id('light.kitchen_ceiling') }}", 'kitchen'],
      ["{{ area_name('lock.front_door') }}", 'None'],
      ["{{ area_entities('garage') }}", '[]'],
      ["{{ area_entities('bedroom') | join(', ') }}", 'light.bedroom_bedside'],
      ["{{ area_entities('kitchen') | length }}", '2'],
    ];
    for (const [template, expected] of cases)
      expect(await (await render(template)).text(), template).toBe(expected);
  });

  it('should read states and attributes', async () => {
    expect(
      await (
        await render(
          "{{ states('light.living_room_lamp') }} at {{ state_attr('light.living_room_lamp', 'brightness') }}",
        )
      ).text(),
    ).toBe('on at 180');
    expect(await (await render("{{ states('light.garage') }}")).text()).toBe('unknown');
    expect(await (await render("{{ is_state('lock.front_door', 'locked') }}")).text()).toBe('True');
    expect(await (await render('{{ room | upper }}', { room: 'kitchen' })).text()).toBe('KITCHEN');
    // An undefined name renders as nothing, as HA's non-strict templates do.
    expect(await (await render('[{{ nobody }}]')).text()).toBe('[]');
  });

  it('should answer 400 {"message": "Error rendering template: ..."} for what it cannot render', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ template: '{{ explode() }}' }, /^Error rendering template: UndefinedError: 'explode' is undefined$/],
      [
        { template: '{{ areas() | shout }}' },
        /^Error rendering template: TemplateAssertionError: No filter named 'shout'\.$/,
      ],
      [{ template: '{{ areas(' }, /^Error rendering template: TemplateSyntaxError: /],
      [
        { template: '{% for a in areas() %}{{ a }}{% endfor %}' },
        /^Error rendering template: TemplateSyntaxError: /,
      ],
      [{ nothing: true }, /^Error rendering template: 'template'$/],
    ];
    for (const [body, message] of cases) {
      const res = await ha.post('/api/template', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(message);
    }
    const badJson = await ha.post('/api/template', '{"template": ');
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as { message: string }).message).toMatch(/^Error rendering template: /);
  });
});
