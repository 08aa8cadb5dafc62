/** What the last caprelay.json did, as the background keeps it for the popup and the settings page. */
import { PROBLEM_REASONS, type SettingsProblem } from './settings';
import { isArrayOf, isBoundedString, isOneOf, isOptional, isShapeOf, isString } from './validate';

export interface SetupFileStatus {
  /** SHA-256 of the file's text, to tell a changed file from the one already applied. */
  hash: string;
  appliedAt: number;
  /** Paths of the settings it set (`apiKey` when it set the key); never a value: the file holds the key. */
  applied: string[];
  problems: SettingsProblem[];
}

const isSettingsProblem = isShapeOf<SettingsProblem>({
  field: isBoundedString(200),
  reason: isOneOf(PROBLEM_REASONS),
  args: isOptional(isArrayOf(isBoundedString(2_000), 8)),
});

export const isSetupFileStatus = isShapeOf<SetupFileStatus>({
  hash: isString,
  appliedAt: (v: unknown): v is number => typeof v === 'number',
  applied: isArrayOf(isBoundedString(200)),
  problems: isArrayOf(isSettingsProblem, 100),
});
