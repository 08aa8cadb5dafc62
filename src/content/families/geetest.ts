/**
 * GeeTest v3 / v4 detector: widgets exist only in page memory (initGeetest / initGeetest4
 * configs), so everything comes from the probe's reports, each with the probe's handle (`ref`).
 * The solution's values go into GeeTest's hidden fields where the page has them, and to the
 * probe, which answers getValidate() and runs the page's onSuccess handlers.
 */
import type { GeeTestCaptcha } from '../../shared/captcha';
import { isGeeTestChallenge, isGeeTestGt, isGeeTestRiskType } from '../../shared/families/geetest';
import { MAX_CAPTCHAS_PER_FRAME } from '../../shared/messages';
import type { ProbeReport } from '../../shared/page-protocol';
import { isHostName } from '../../shared/validate';
import { attr, connected, documentRoot, queryAll } from '../../page-dom/dom';
import type { DeliveryPlan, FamilyDetector, WidgetIds } from '../detector';
import { fill } from '../fill';

/** The fields a site posts, per version: GeeTest's form for v3, the result names for v4. */
const FIELDS: Record<3 | 4, Record<string, string>> = {
  3: { geetest_challenge: 'challenge', geetest_validate: 'validate', geetest_seccode: 'seccode' },
  4: { captcha_id: 'captcha_id', lot_number: 'lot_number', pass_token: 'pass_token', gen_time: 'gen_time', captcha_output: 'captcha_output' },
};

interface Setup extends Omit<GeeTestCaptcha, 'id' | 'family'> {
  container: Element;
}

export class GeeTestDetector implements FamilyDetector<GeeTestCaptcha> {
  readonly family = 'geetest';
  /** Nothing in markup shows a GeeTest widget's parameters: no element is ever inspected. */
  readonly selector = 'caprelay-geetest-none';
  private readonly setups = new Map<string, Setup>();

  constructor(private readonly ids: WidgetIds) {}

  inspect(): boolean {
    return false;
  }

  applyProbe(report: ProbeReport, target: Element | null): boolean {
    if (report.family !== 'geetest' || !isGeeTestGt(report.gt)) return false;
    if (report.released) return this.forget([report.ref]);
    if (report.version === 3 && !isGeeTestChallenge(report.challenge)) return false;
    if (!this.setups.has(report.ref) && this.full()) return false;
    const setup: Setup = { version: report.version, gt: report.gt, container: target ?? documentRoot() };
    if (report.version === 3) setup.challenge = report.challenge;
    if (report.apiServer && isHostName(report.apiServer)) setup.apiServer = report.apiServer;
    if (report.version === 4 && isGeeTestRiskType(report.riskType)) setup.riskType = report.riskType;
    this.setups.set(report.ref, setup);
    return true;
  }

  full(): boolean {
    return this.setups.size >= MAX_CAPTCHAS_PER_FRAME;
  }

  prune(): boolean {
    let changed = false;
    for (const [ref, setup] of this.setups) {
      if (connected(setup.container)) continue;
      this.setups.delete(ref);
      changed = true;
    }
    return changed;
  }

  captchas(): GeeTestCaptcha[] {
    return Array.from(this.setups, ([ref, { container: _container, ...setup }]) => ({ family: 'geetest' as const, id: this.ids.idForKey(`gt:${ref}`, 'gt'), ...setup }));
  }

  containerOf(captchaId: string): Element | null {
    return this.find(captchaId)?.[1].container ?? null;
  }

  refOf(captchaId: string): string | undefined {
    return this.find(captchaId)?.[0];
  }

  /** CapRelay will not solve these here: the page's own widget takes over (and spends the challenge). */
  forget(refs: readonly string[]): boolean {
    let changed = false;
    for (const ref of refs) changed = this.setups.delete(ref) || changed;
    return changed;
  }

  private find(captchaId: string): [string, Setup] | undefined {
    for (const entry of this.setups) if (this.ids.peekKey(`gt:${entry[0]}`) === captchaId) return entry;
    return undefined;
  }

  deliver(captcha: GeeTestCaptcha, token: string): DeliveryPlan {
    const entry = this.find(captcha.id);
    let values: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(token);
      if (typeof parsed === 'object' && parsed !== null) values = parsed as Record<string, unknown>;
    } catch {
      /* not the family's delivery: nothing to fill */
    }
    const names = FIELDS[captcha.version];
    let filled = 0;
    for (const field of queryAll<HTMLInputElement>(entry?.[1].container ?? documentRoot(), 'input')) {
      const key = names[attr(field, 'name') ?? ''];
      const value = key ? values[key] : undefined;
      if (typeof value !== 'string') continue;
      fill(field, value);
      filled++;
    }
    return { fieldsFilled: filled, request: { family: 'geetest', token, v3: false, ...(entry && { ref: entry[0] }) } };
  }
}

export const geetest = (ids: WidgetIds): GeeTestDetector => new GeeTestDetector(ids);
