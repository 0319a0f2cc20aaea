/**
 * The lines `allerac start` shows the person at the terminal once the node serves: where to
 * open it, and on a fresh node how to finish setup. Written to stderr beside the log, never
 * into it: the setup code is a secret of this machine.
 */

/** What the banner says. */
export interface StartBannerInfo {
  /** The agent's name. */
  name: string;
  /** The web UI's URL. */
  url: string;
  /** The one-time setup code of a node nobody has claimed yet; undefined once it is set up. */
  setupCode?: string | undefined;
  /** The HTTP listen address: a LAN-wide one gets a note that other machines can reach it. */
  httpHost: string;
}

/** The banner's text, ending in a blank line. */
export function formatStartBanner(info: StartBannerInfo): string {
  const lines = [`Allerac "${info.name}" is running.`];
  if (info.setupCode === undefined) {
    lines.push(`Open ${info.url} in a browser.`);
  } else {
    lines.push(`Open ${info.url} to finish setup.`);
    // Kept as it was before the banner: people and scripts look for this line.
    lines.push(
      `This node is not set up yet. Open ${info.url}/setup on this machine,`,
      `or from another machine enter the setup code: ${info.setupCode}`,
    );
  }
  if (info.httpHost === '0.0.0.0' || info.httpHost === '::')
    lines.push('Other machines of the home reach it at this machine\u2019s address, same port.');
  lines.push('Press Ctrl-C to stop.');
  return `\n${lines.map((line) => `  ${line}`).join('\n')}\n\n`;
}
