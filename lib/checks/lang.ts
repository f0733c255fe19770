/**
 * The languages v6lab's reports and console summary are written in (issue 18): English and
 * Simplified Chinese, both first-class. A text shown to a reader is a Localized, never an English
 * string translated on the way out.
 */
export type Lang = 'en' | 'zh-CN';
export const LANGS: readonly Lang[] = ['en', 'zh-CN'];

/** One text in every language. */
export type Localized = Readonly<Record<Lang, string>>;

/**
 * The language a user's locale asks for (LC_ALL, then LC_MESSAGES, then LANG, as POSIX orders
 * them): any Chinese locale (zh, zh_CN.UTF-8, zh_TW...) is zh-CN, anything else English.
 */
export function langFromEnv(env: Readonly<Record<string, string | undefined>>): Lang {
  const locale = [env.LC_ALL, env.LC_MESSAGES, env.LANG].find((v) => v !== undefined && v !== '') ?? '';
  return /^zh([_.@-]|$)/i.test(locale) ? 'zh-CN' : 'en';
}

/** `--lang`'s value, or null when it is not one v6lab writes. */
export function parseLang(text: string): Lang | null {
  const found = LANGS.find((l) => l.toLowerCase() === text.trim().toLowerCase());
  return found ?? null;
}
