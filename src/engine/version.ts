import pkg from '../../package.json';

/** The version every report and log line records. */
export const BNLENS_VERSION: string = pkg.version;
