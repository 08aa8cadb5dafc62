import browser from 'webextension-polyfill';
import type { TaskState } from '../shared/tasks';

const COLORS: Partial<Record<TaskState, string>> = {
  queued: '#2563eb',
  creating: '#2563eb',
  solving: '#2563eb',
  ready: '#2563eb',
  delivered: '#16a34a',
  failed: '#dc2626',
  expired: '#dc2626',
  cancelled: '#6b7280',
};

/** The toolbar badge: how many captchas the tab has, coloured by its latest task. */
export async function updateBadge(tabId: number, count: number, latest?: TaskState): Promise<void> {
  try {
    await browser.action.setBadgeText({ tabId, text: count > 0 ? String(count) : '' });
    await browser.action.setBadgeBackgroundColor({ tabId, color: (latest && COLORS[latest]) ?? '#4b5563' });
  } catch {
    // The tab is gone.
  }
}
