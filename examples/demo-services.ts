/**
 * The demo's sandbox service and demo site (npm run demo's) on 127.0.0.1, for the examples to
 * run against without an account or a network. With a real service, use its URL and your key.
 */
import { DEMO_KEY, Sandbox } from '../demo/sandbox';
import { startDemoSite } from '../demo/site';

export interface DemoServices {
  serviceUrl: string;
  apiKey: string;
  siteOrigin: string;
  sandbox: Sandbox;
  stop(): Promise<void>;
}

export async function startDemo(solveMs = 2_000): Promise<DemoServices> {
  const sandbox = await new Sandbox({ solveMs }).start();
  const site = await startDemoSite(sandbox).catch(async (error: unknown) => {
    await sandbox.stop();
    throw error;
  });
  return {
    serviceUrl: sandbox.url,
    apiKey: DEMO_KEY,
    siteOrigin: site.origin,
    sandbox,
    stop: async () => {
      await Promise.all([site.close(), sandbox.stop()]);
    },
  };
}
