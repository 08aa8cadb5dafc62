/**
 * Watches every target of a Chromium test session over the DevTools protocol: uncaught
 * exceptions and unhandled rejections (Runtime.exceptionThrown) and console calls
 * (Runtime.consoleAPICalled), in every JavaScript world: the extension's service worker, its
 * pages, web pages, their content scripts' isolated worlds and the page-world probe.
 *
 * Playwright's CDP sessions reach pages only, and its worker handle reports no exceptions. So a
 * tab of its own gets the browser's protocol connection as a binding (Target.exposeDevToolsProtocol)
 * and attaches from there, flattened, to each target as it appears.
 */
import type { BrowserContext, Page } from 'playwright';

export interface MonitoredEvent {
  kind: 'exception' | 'console';
  targetType: string;
  targetUrl: string;
  /** Console level ('log', 'error', …) or 'exception'. */
  level: string;
  /** The exception's description with its stack, or the console arguments as text. */
  text: string;
  /** Script URLs in the stack (extension code has chrome-extension:// ones). */
  scripts: string[];
  /** Name of the JavaScript world ('' for a page's main world; the extension's name for its content scripts). */
  world: string;
  at: number;
}

export interface CdpMonitor {
  readonly events: MonitoredEvent[];
  exceptions(): MonitoredEvent[];
  console(): MonitoredEvent[];
  /** Exceptions thrown by extension code: in an extension target, or with extension code on the stack, or in a content script's world. */
  extensionErrors(extensionId: string): MonitoredEvent[];
  /** Drops what was collected so far (between tests). */
  clear(): void;
  close(): Promise<void>;
}

interface MonitorWindow {
  __cdp: { send(message: string): void; onmessage: ((message: string) => void) | null };
  __monitorReport(json: string): void;
}

export async function startCdpMonitor(context: BrowserContext): Promise<CdpMonitor> {
  const events: MonitoredEvent[] = [];
  const monitorTab: Page = await context.newPage();
  await monitorTab.goto('about:blank');
  await monitorTab.exposeFunction('__monitorReport', (json: string) => {
    events.push(JSON.parse(json) as MonitoredEvent);
  });
  const own = await context.newCDPSession(monitorTab);
  const { targetInfo } = (await own.send('Target.getTargetInfo')) as { targetInfo: { targetId: string } };
  const browser = context.browser();
  if (!browser) throw new Error('no browser-level CDP session');
  const root = await browser.newBrowserCDPSession();
  await root.send('Target.exposeDevToolsProtocol', { targetId: targetInfo.targetId, bindingName: '__cdp' });
  await root.detach();

  // Runs in that tab: it speaks the protocol itself and reports each event to Node.
  await monitorTab.evaluate((monitorTargetId: string) => {
    const w = window as unknown as MonitorWindow;
    let nextId = 0;
    const pending = new Map<number, (result: unknown) => void>();
    const attached = new Set<string>();
    const sessions = new Map<string, { targetId: string; type: string; url: string; worlds: Map<number, string> }>();
    const send = (method: string, params: object = {}, sessionId?: string): Promise<unknown> =>
      new Promise((resolve) => {
        const id = ++nextId;
        pending.set(id, resolve);
        w.__cdp.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
      });
    type RemoteObject = { type?: string; value?: unknown; description?: string; unserializableValue?: string; preview?: { properties?: { name: string; value?: string }[] } };
    type StackTrace = { callFrames?: { url: string }[] };
    const textOf = (o: RemoteObject): string => {
      if (o.value !== undefined) return typeof o.value === 'string' ? o.value : JSON.stringify(o.value);
      const props = o.preview?.properties?.map((p) => `${p.name}: ${p.value ?? ''}`).join(', ');
      return [o.description ?? o.unserializableValue ?? o.type ?? '', props ? `{${props}}` : ''].join(' ').trim();
    };
    const scriptsOf = (stack: StackTrace | undefined, url?: string): string[] => [...(url ? [url] : []), ...(stack?.callFrames ?? []).map((f) => f.url)].filter(Boolean);
    const attach = async (target: { targetId: string; type: string; url: string }): Promise<void> => {
      if (target.targetId === monitorTargetId || attached.has(target.targetId) || !['page', 'service_worker', 'iframe', 'worker'].includes(target.type)) return;
      attached.add(target.targetId);
      const reply = (await send('Target.attachToTarget', { targetId: target.targetId, flatten: true })) as { result?: { sessionId: string } };
      const sessionId = reply.result?.sessionId;
      if (!sessionId) return;
      sessions.set(sessionId, { targetId: target.targetId, type: target.type, url: target.url, worlds: new Map() });
      await send('Runtime.enable', {}, sessionId);
    };
    w.__cdp.onmessage = (text: string) => {
      const message = JSON.parse(text) as { id?: number; method?: string; params?: Record<string, unknown>; sessionId?: string; result?: unknown };
      if (message.id !== undefined) {
        pending.get(message.id)?.(message);
        pending.delete(message.id);
        return;
      }
      const params = message.params ?? {};
      if (message.method === 'Target.targetCreated') {
        void attach(params.targetInfo as { targetId: string; type: string; url: string });
        return;
      }
      if (message.method === 'Target.targetInfoChanged') {
        const info = params.targetInfo as { targetId: string; url: string };
        for (const s of sessions.values()) if (s.targetId === info.targetId) s.url = info.url;
        return;
      }
      const session = message.sessionId ? sessions.get(message.sessionId) : undefined;
      if (!session) return;
      if (message.method === 'Runtime.executionContextCreated') {
        const ctx = params.context as { id: number; name: string; origin: string; auxData?: { type?: string } };
        session.worlds.set(ctx.id, ctx.auxData?.type === 'isolated' ? ctx.name || ctx.origin : '');
        return;
      }
      const base = { targetType: session.type, targetUrl: session.url, at: Date.now() };
      if (message.method === 'Runtime.exceptionThrown') {
        const d = params.exceptionDetails as { text: string; url?: string; exception?: RemoteObject; stackTrace?: StackTrace; executionContextId?: number };
        w.__monitorReport(
          JSON.stringify({
            ...base,
            kind: 'exception',
            level: 'exception',
            text: `${d.text} ${d.exception ? textOf(d.exception) : ''}`.trim(),
            scripts: scriptsOf(d.stackTrace, d.url),
            world: session.worlds.get(d.executionContextId ?? -1) ?? '',
          }),
        );
      } else if (message.method === 'Runtime.consoleAPICalled') {
        const c = params as { type: string; args: RemoteObject[]; stackTrace?: StackTrace; executionContextId: number };
        w.__monitorReport(
          JSON.stringify({
            ...base,
            kind: 'console',
            level: c.type,
            text: c.args.map(textOf).join(' '),
            scripts: scriptsOf(c.stackTrace),
            world: session.worlds.get(c.executionContextId) ?? '',
          }),
        );
      }
    };
    void (async () => {
      await send('Target.setDiscoverTargets', { discover: true });
      const { result } = (await send('Target.getTargets')) as { result: { targetInfos: { targetId: string; type: string; url: string }[] } };
      for (const target of result.targetInfos) await attach(target);
    })();
  }, targetInfo.targetId);

  const isExtension = (text: string, extensionId: string): boolean => text.includes(`chrome-extension://${extensionId}/`);
  return {
    events,
    exceptions: () => events.filter((e) => e.kind === 'exception'),
    console: () => events.filter((e) => e.kind === 'console'),
    extensionErrors: (extensionId) =>
      events.filter(
        (e) => e.kind === 'exception' && (isExtension(e.targetUrl, extensionId) || e.scripts.some((s) => isExtension(s, extensionId)) || (e.world !== '' && !e.world.startsWith('__playwright'))),
      ),
    clear: () => void events.splice(0),
    close: async () => {
      await monitorTab.close().catch(() => undefined);
    },
  };
}
