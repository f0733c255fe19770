// The driver's code is the root package's lib/appium (compiled to dist/appium by `npm run build`);
// Appium links this folder into APPIUM_HOME, and Node follows the link back here.
export { V6labVirtualDriver } from '../../dist/appium/driver.js';
