// bench/: benchmarks that run our code and a named peer in one run and print
// the ratio. Built with issues #4, #5, #7 and #8.
export { benchRecord, formatRecordBench, type RecordBenchOptions, type RecordBenchResult, type RunStats } from './record.ts';
