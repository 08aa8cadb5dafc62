/**
 * The parts of the content scripts that load only where needed, by their file in the built
 * extension (vite.config.ts builds each from its entry), injected by the background into the
 * one frame that needs them. Not web-accessible: only the extension itself can load them.
 */
export const LAZY_SCRIPTS = {
  /** Detectors, delivery and the in-page button (isolated world), where a vendor marker showed. */
  agent: { file: 'lazy/agent.js', entry: 'src/content/agent-main.ts' },
  /** The page-world hooks (main world), with the agent. */
  hooks: { file: 'lazy/hooks.js', entry: 'src/main-world/hooks.ts' },
  /** The image flows, when the user starts one, and in Arkose's frames. */
  images: { file: 'lazy/images.js', entry: 'src/content/image/main.ts' },
} as const;
