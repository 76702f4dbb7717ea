import type { Command } from 'commander';

/** Every CLI command lives in its own file and registers itself on the program. */
export type RegisterCommand = (program: Command) => void;

import { registerDoctor } from './doctor.js';
import { registerDicom } from './dicom.js';
import { registerCache } from './cache.js';
import { registerPhantom } from './phantom.js';
import { registerLabel } from './label.js';
import { registerManifest } from './manifest.js';
import { registerTrain } from './train.js';
import { registerDemo } from './demo.js';
import { registerEval } from './eval.js';
import { registerStudy } from './study.js';
import { registerPredict } from './predict.js';
import { registerEncoder } from './encoder.js';
import { registerTopics } from './topics.js';
import { registerMatch } from './match.js';

export const commands: RegisterCommand[] = [
  registerDoctor,
  registerDicom,
  registerCache,
  registerPhantom,
  registerLabel,
  registerManifest,
  registerTrain,
  registerDemo,
  registerEval,
  registerStudy,
  registerPredict,
  registerEncoder,
  registerTopics,
  registerMatch,
];
