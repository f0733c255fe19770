/**
 * Android's view hierarchy as `uiautomator dump /dev/tty` prints it: pure parsing, no I/O.
 * The driver (./driver.ts) runs the command over adb and asks these functions what is on screen.
 */

export interface UiNode {
  text: string;
  contentDesc: string;
  /** `resource-id`, e.g. `com.android.settings:id/apn_radiobutton` (empty when the view has none). */
  resourceId: string;
  checkable: boolean;
  checked: boolean;
  className: string;
  packageName: string;
  clickable: boolean;
  /** `[left, top, right, bottom]` in screen pixels. */
  bounds: [number, number, number, number];
}

export class HierarchyFormatError extends Error {
  constructor(
    readonly reason: string,
    readonly output: string,
  ) {
    super(`uiautomator dump: ${reason} (output began: ${JSON.stringify(output.slice(0, 120))})`);
    this.name = 'HierarchyFormatError';
  }
}

const CLOSE = '</hierarchy>';

/**
 * The XML alone: `uiautomator dump /dev/tty` prints the hierarchy and then its own message on the
 * same stream, e.g. `...</hierarchy>UI hierchary dumped to: /dev/tty` (Android's typo).
 */
export function hierarchyXml(output: string): string {
  const start = output.indexOf('<?xml');
  const end = output.lastIndexOf(CLOSE);
  if (start < 0 || end < 0) throw new HierarchyFormatError('no <hierarchy> document in the output', output);
  return output.slice(start, end + CLOSE.length);
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&quot;': '"', '&lt;': '<', '&gt;': '>', '&apos;': "'" };
const unescapeXml = (value: string) => value.replace(/&(?:amp|quot|lt|gt|apos);/g, (e) => ENTITIES[e] ?? e);

// <node index="1" text="article" resource-id="" class="android.widget.Button" package="com.example.news" content-desc="article" checkable="false" ... clickable="true" ... bounds="[40,400][1040,560]" />
const NODE = /<node\s([^>]*?)\/?>/g;
const ATTRIBUTE = /([\w:-]+)="([^"]*)"/g;
// [40,400][1040,560]
const BOUNDS = /^\[(-?\d+),(-?\d+)\]\[(-?\d+),(-?\d+)\]$/;

/** Every `<node>` of the hierarchy in document order; a node without readable bounds is skipped. */
export function parseHierarchy(xml: string): UiNode[] {
  if (!xml.includes('<hierarchy')) throw new HierarchyFormatError('no <hierarchy> element', xml);
  const nodes: UiNode[] = [];
  for (const match of xml.matchAll(NODE)) {
    const attributes = new Map<string, string>();
    for (const [, name, value] of match[1]!.matchAll(ATTRIBUTE)) attributes.set(name!, unescapeXml(value!));
    const bounds = BOUNDS.exec(attributes.get('bounds') ?? '');
    if (bounds === null) continue;
    nodes.push({
      text: attributes.get('text') ?? '',
      contentDesc: attributes.get('content-desc') ?? '',
      resourceId: attributes.get('resource-id') ?? '',
      checkable: attributes.get('checkable') === 'true',
      checked: attributes.get('checked') === 'true',
      className: attributes.get('class') ?? '',
      packageName: attributes.get('package') ?? '',
      clickable: attributes.get('clickable') === 'true',
      bounds: [Number(bounds[1]), Number(bounds[2]), Number(bounds[3]), Number(bounds[4])],
    });
  }
  return nodes;
}

/** Where a tap lands on a node: the centre of its bounds. */
export function centre(bounds: readonly [number, number, number, number]): [number, number] {
  return [Math.floor((bounds[0] + bounds[2]) / 2), Math.floor((bounds[1] + bounds[3]) / 2)];
}
