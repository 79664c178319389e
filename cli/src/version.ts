/** The CLI's version; test/cli checks it equals package.json's. */
export const CLI_VERSION = '0.1.0';
