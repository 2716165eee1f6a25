// The version, read from package.json at build time so the executable carries it.
import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
export const LICENSE_LINES = [
  "Copyright (c) 2018-2026 Edgeworx, Inc. and the Eclipse ioFog contributors",
  "Eclipse Public License - v 2.0 <https://www.eclipse.org/legal/epl-2.0/>",
];
