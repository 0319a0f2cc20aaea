/** A link from a dashboard card to Settings, where the panel's buttons are. */
import { t } from '../i18n.js';
import { navigate } from '../router.js';

/** "Manage in Settings", navigating within the app. */
export function SettingsLink() {
  return (
    <a
      href="/settings"
      class="small"
      onClick={(event) => {
        event.preventDefault();
        navigate('/settings');
      }}
    >
      {t('dash.manageInSettings')}
    </a>
  );
}
