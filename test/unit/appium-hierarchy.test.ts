import assert from 'node:assert/strict';
import { centre, hierarchyXml, HierarchyFormatError, parseHierarchy } from '../../lib/appium/hierarchy.js';
import { renderHierarchy } from '../../lib/lab/android/ui.js';

describe('appium: the page source a virtual handset gives', () => {
  const dump = `${renderHierarchy({ package: 'com.example.news', page: 'home', links: ['article', 'video & more'] })}UI hierchary dumped to: /dev/tty\n`;

  it("cuts the dump to the XML, without uiautomator's message", () => {
    const xml = hierarchyXml(dump);
    assert.match(xml, /^<\?xml/);
    assert.match(xml, /<\/hierarchy>$/);
  });

  it('finds each link by its accessibility id with its bounds, unescaped', () => {
    const nodes = parseHierarchy(hierarchyXml(dump));
    const article = nodes.find((n) => n.contentDesc === 'article');
    assert.ok(article);
    assert.deepEqual(centre(article.bounds), [540, 480]);
    assert.ok(nodes.some((n) => n.contentDesc === 'video & more'));
  });

  it('refuses output that is not a hierarchy', () => {
    assert.throws(() => hierarchyXml('ERROR: null root node returned by UiTestAutomationBridge.\n'), HierarchyFormatError);
  });
});
