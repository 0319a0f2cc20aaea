/**
 * The node side of the web UI: the SPA's static files, first-run setup, login and sessions, the
 * member role's limits, conversation history, the dashboard's data and live events over SSE.
 */

export { SPECIALIZATIONS } from '../contract/vocabulary.js';
export { fitsTier, type ModelRecommendation, type ModelTier, recommendModels } from './recommendation.js';
export { createWebUi, type UiComponents, type WebUi } from './ui.js';
export { resolveWebDist, SPA_ROUTES, UI_NOT_BUILT_MESSAGE } from './web-assets.js';
