package dev.denseface.demo

import android.os.Build
import android.util.Log
import dev.denseface.core.LatencyStats
import dev.denseface.demo.data.StageTimings
import java.io.File
import java.text.SimpleDateFormat
import java.util.Date
import java.util.Locale

/**
 * The app's benchmark mode (started by the intent extras, see MainActivity): the live camera pipeline
 * timed per stage. Skips [warmup] frames, records the next [frames], then writes
 *
 * * `<outDir>/<time>_<delegate>_frames.csv`: one row per frame (faces, whether the detector ran, how
 *   many crops the landmark model ran on, milliseconds per stage and end to end);
 * * `<outDir>/<time>_<delegate>_summary.csv`: per stage, p50 / p95 / mean over the frames in which it
 *   ran and the mean per frame (as `python -m benchmarks.latency` reports them; percentiles by the
 *   core's [LatencyStats], numpy's definition),
 *
 * and logs the summary (logcat tag `DenseFaceBenchmark`). Stages: `convert` (camera image → frame),
 * `detect`, `crop`, `infer`, `decode` (points, smoothing, pose, tracking), `end_to_end` (their sum).
 *
 * [record] is called on the analysis thread only.
 */
class Benchmark(
    private val warmup: Int,
    private val frames: Int,
    private val delegate: String,
    private val outDir: File,
) {
    /** What a finished run wrote. */
    class Report(val headline: String, val summary: File, val perFrame: File)

    private val rows = ArrayList<Row>(frames)
    private var seen = 0
    private var finished = false

    private class Row(val timings: StageTimings, val faces: Int, val device: String)

    init {
        require(warmup >= 0 && frames >= 1) { "need warmup >= 0 and frames >= 1, got $warmup and $frames" }
    }

    /** Record one analysed frame; the [Report] when this frame completed the run, else null. */
    fun record(timings: StageTimings, faces: Int, device: String): Report? {
        if (finished) return null
        seen++
        if (seen <= warmup) return null
        rows.add(Row(timings, faces, device))
        if (rows.size < frames) return null
        finished = true
        return write()
    }

    private fun write(): Report {
        outDir.mkdirs()
        val stamp = SimpleDateFormat("yyyyMMdd-HHmmss", Locale.ROOT).format(Date())
        val perFrame = File(outDir, "${stamp}_${delegate}_frames.csv")
        val summary = File(outDir, "${stamp}_${delegate}_summary.csv")
        perFrame.bufferedWriter().use { out ->
            out.write("frame,faces,detector_ran,landmark_runs,device,convert_ms,detect_ms,crop_ms,infer_ms,decode_ms,end_to_end_ms\n")
            rows.forEachIndexed { i, r ->
                val t = r.timings
                out.write(String.format(Locale.ROOT, "%d,%d,%d,%d,\"%s\",%.3f,%.3f,%.3f,%.3f,%.3f,%.3f\n",
                    i, r.faces, if (t.detectorRan) 1 else 0, t.landmarkRuns, r.device,
                    t.convertMs, t.detectMs, t.cropMs, t.inferMs, t.decodeMs, t.totalMs))
            }
        }
        val devices = rows.map { it.device }.distinct().joinToString(" | ")
        val withFace = rows.filter { it.timings.landmarkRuns > 0 }
        // (stage, the frames in which it ran, its milliseconds on a frame)
        val stages = listOf<Triple<String, List<Row>, (StageTimings) -> Float>>(
            Triple("convert", rows, { t: StageTimings -> t.convertMs }),
            Triple("detect", rows.filter { it.timings.detectorRan }, { t: StageTimings -> t.detectMs }),
            Triple("crop", withFace, { t: StageTimings -> t.cropMs }),
            Triple("infer", withFace, { t: StageTimings -> t.inferMs }),
            Triple("decode", withFace, { t: StageTimings -> t.decodeMs }),
            Triple("end_to_end", rows, { t: StageTimings -> t.totalMs }),
        )
        val lines = ArrayList<String>()
        summary.bufferedWriter().use { out ->
            out.write("device_model,android_sdk,delegate_requested,devices_used,warmup,frames,stage,frames_run,p50_ms,p95_ms,mean_ms,mean_per_frame_ms\n")
            for ((name, ran, ms) in stages) {
                val values = ran.map { ms(it.timings).toDouble() }.toDoubleArray()
                val p50 = LatencyStats.percentile(values, 50.0)
                val p95 = LatencyStats.percentile(values, 95.0)
                val mean = LatencyStats.mean(values)
                val perFrameMean = values.sum() / rows.size
                out.write(String.format(Locale.ROOT, "\"%s %s\",%d,%s,\"%s\",%d,%d,%s,%d,%.3f,%.3f,%.3f,%.3f\n",
                    Build.MANUFACTURER, Build.MODEL, Build.VERSION.SDK_INT, delegate, devices, warmup, rows.size,
                    name, values.size, p50, p95, mean, perFrameMean))
                lines.add(String.format(Locale.ROOT, "%-10s ran on %4d/%d frames  p50 %7.2f ms  p95 %7.2f ms  mean %7.2f ms",
                    name, values.size, rows.size, p50, p95, mean))
            }
        }
        val facesFound = rows.count { it.faces > 0 }
        Log.i(LOG_TAG, "${Build.MANUFACTURER} ${Build.MODEL}, Android API ${Build.VERSION.SDK_INT}, delegate $delegate " +
            "($devices), $warmup warm-up + ${rows.size} frames, a face in $facesFound")
        lines.forEach { Log.i(LOG_TAG, it) }
        Log.i(LOG_TAG, "wrote ${summary.absolutePath} and ${perFrame.absolutePath}")
        val endToEnd = rows.map { it.timings.totalMs.toDouble() }.toDoubleArray()
        val headline = String.format(Locale.ROOT, "Benchmark (%s, %d frames, a face in %d): end to end p50 %.1f ms, p95 %.1f ms\n%s",
            delegate, rows.size, facesFound, LatencyStats.percentile(endToEnd, 50.0), LatencyStats.percentile(endToEnd, 95.0),
            summary.absolutePath)
        return Report(headline, summary, perFrame)
    }

    companion object {
        /** The logcat tag of the summary: `adb logcat -s DenseFaceBenchmark`. */
        const val LOG_TAG = "DenseFaceBenchmark"
    }
}
