// The plugin's code is the root package's lib/plugin (compiled to dist/plugin by `npm run build`);
// Appium links this folder into APPIUM_HOME, and Node follows the link back here.
export { V6labPlugin } from '../../dist/plugin/plugin.js';
