/**
 * Renders a training run's event stream: a cli-progress bar on stderr (interactive terminals,
 * not CI) with loss, samples/s and data-time vs step-time; plain log lines otherwise.
 */
import cliProgress from 'cli-progress';
import { dataSummaryLines, type TrainEvent } from '../../index.js';

export interface RenderOptions {
  /** Print a plain line every this many steps when there is no bar (default 25). */
  every?: number;
  /** Print eval results and the summary (default true). */
  results?: boolean;
}

const ms = (v: number): string => (v < 10 ? v.toFixed(2) : v.toFixed(0));

export function createRenderer(options: RenderOptions = {}): (event: TrainEvent) => void {
  const interactive = Boolean(process.stderr.isTTY) && process.env.CI !== 'true';
  const every = options.every ?? 25;
  let bar: cliProgress.SingleBar | undefined;
  let lastStage = '';
  const log = (line: string): void => {
    if (bar) bar.stop();
    bar = undefined;
    process.stderr.write(`${line}\n`);
  };
  return (event) => {
    switch (event.type) {
      case 'stage': {
        // every message, but of a stage's progress updates only the first and the last
        if (event.stage !== lastStage || event.progress === undefined || event.progress === 1) log(`[${event.stage}] ${event.message}`);
        lastStage = event.stage;
        break;
      }
      case 'step': {
        const payload = {
          loss: event.loss.toFixed(4),
          phase: event.phase,
          sps: event.samplesPerSec.toFixed(0),
          data: ms(event.dataMs),
          compute: ms(event.stepMs),
        };
        if (interactive) {
          if (!bar) {
            bar = new cliProgress.SingleBar(
              {
                stream: process.stderr,
                hideCursor: true,
                format:
                  '{phase} [{bar}] {value}/{total} | loss {loss} | {sps} samples/s | data {data} ms / step {compute} ms | eta {eta_formatted}',
              },
              cliProgress.Presets.shades_classic,
            );
            bar.start(event.totalSteps, event.step - 1, payload);
          }
          bar.update(event.step, payload);
        } else if (event.step % every === 0 || event.step === event.totalSteps || event.step === 1) {
          process.stderr.write(
            `step ${event.step}/${event.totalSteps} ${event.phase} loss ${payload.loss} | ${payload.sps} samples/s | data ${payload.data} ms / step ${payload.compute} ms\n`,
          );
        }
        break;
      }
      case 'checkpoint':
        if (event.reason !== 'interval' || !interactive) log(`[checkpoint] step ${event.step} (${event.reason}): ${event.path}`);
        break;
      case 'data':
        for (const line of dataSummaryLines(event.summary)) log(`[data] ${line}`);
        break;
      case 'eval':
        if (options.results !== false) log(`[eval] ${event.name}: macro AUROC ${event.macroAuroc.toFixed(3)}`);
        break;
      case 'done':
        if (bar) bar.stop();
        bar = undefined;
        break;
    }
  };
}
