package dev.denseface.demo

import android.Manifest
import android.content.pm.PackageManager
import android.hardware.display.DisplayManager
import android.os.Bundle
import android.util.Log
import android.view.Surface
import android.view.View
import android.widget.Button
import android.widget.TextView
import android.widget.Toast
import androidx.activity.result.contract.ActivityResultContracts
import androidx.appcompat.app.AppCompatActivity
import androidx.appcompat.widget.SwitchCompat
import androidx.camera.core.CameraSelector
import androidx.camera.core.ImageAnalysis
import androidx.camera.core.Preview
import androidx.camera.core.UseCaseGroup
import androidx.camera.core.resolutionselector.AspectRatioStrategy
import androidx.camera.core.resolutionselector.ResolutionSelector
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.camera.view.PreviewView
import androidx.core.content.ContextCompat
import androidx.core.view.ViewCompat
import androidx.core.view.WindowCompat
import androidx.core.view.WindowInsetsCompat
import androidx.core.view.doOnLayout
import dev.denseface.core.Topology
import dev.denseface.demo.ml.Device
import java.io.File
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors

/**
 * Wires the pieces together: CameraX preview + analysis bound as one UseCaseGroup with the PreviewView's
 * ViewPort (the analysed frames are the part of the camera image the preview shows, so the overlay's
 * FILL_CENTER mapping matches it), the [DenseFaceAnalyzer] on one background thread, the [OverlayView],
 * the front/back, mesh and delegate controls, edge-to-edge insets, rotation, and the benchmark mode.
 *
 * Launch options (intent extras, e.g. from adb):
 * `adb shell am start -S -n dev.denseface.demo/.MainActivity --ez benchmark true --ei frames 300 --ei warmup 30 --es delegate cpu`
 * * `delegate` (`cpu`, `gpu` or `nnapi`): where the models run (also without `benchmark`);
 * * `benchmark` (boolean): time [EXTRA_WARMUP] + [EXTRA_FRAMES] camera frames per stage, see [Benchmark].
 */
class MainActivity : AppCompatActivity() {

    private lateinit var previewView: PreviewView
    private lateinit var overlay: OverlayView
    private lateinit var status: TextView
    private lateinit var delegateButton: Button
    private lateinit var analyzer: DenseFaceAnalyzer
    private lateinit var analysisExecutor: ExecutorService
    private var lensFacing = CameraSelector.LENS_FACING_FRONT
    private var device = Device.CPU
    private var analysis: ImageAnalysis? = null
    private var benchmarkLine: String? = null // shown under the other status messages while a benchmark runs
    private val displayManager by lazy { getSystemService(DISPLAY_SERVICE) as DisplayManager }

    /**
     * A 180° turn (landscape ↔ reverse landscape) does not recreate the activity: give the analysis use
     * case the new display rotation, so its frames (rotated upright by FrameConverter) stay upright.
     */
    private val displayListener = object : DisplayManager.DisplayListener {
        override fun onDisplayAdded(displayId: Int) = Unit
        override fun onDisplayRemoved(displayId: Int) = Unit
        override fun onDisplayChanged(displayId: Int) {
            val display = previewView.display ?: return
            if (display.displayId == displayId) analysis?.targetRotation = display.rotation
        }
    }

    private val requestPermission = registerForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
        if (granted) startCamera() else Toast.makeText(this, R.string.camera_permission_denied, Toast.LENGTH_LONG).show()
    }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        WindowCompat.setDecorFitsSystemWindows(window, false) // edge to edge on every API level, as Android 15 enforces it
        setContentView(R.layout.activity_main)
        previewView = findViewById(R.id.preview)
        overlay = findViewById(R.id.overlay)
        status = findViewById(R.id.status)
        delegateButton = findViewById(R.id.delegate)
        applyInsets(findViewById(R.id.bottom_panel))

        val topology = assets.open(TOPOLOGY_ASSET).use { Topology.read(it) }
        overlay.topology = topology
        analysisExecutor = Executors.newSingleThreadExecutor()
        analyzer = DenseFaceAnalyzer(this, topology, onResult = overlay::show, onError = overlay::showError,
            onStatus = { message, fallback -> runOnUiThread { showStatus(message, fallback) } })

        savedInstanceState?.let {
            lensFacing = it.getInt(STATE_LENS, lensFacing)
            device = Device.parse(it.getString(STATE_DEVICE)) ?: device
        }
        if (savedInstanceState == null) {
            intent.getStringExtra(EXTRA_DELEGATE)?.let { name ->
                Device.parse(name)?.let { device = it }
                    ?: Toast.makeText(this, getString(R.string.unknown_delegate, name), Toast.LENGTH_LONG).show()
            }
        }
        setDevice(device)

        findViewById<Button>(R.id.switch_camera).setOnClickListener {
            lensFacing = if (lensFacing == CameraSelector.LENS_FACING_FRONT) CameraSelector.LENS_FACING_BACK
            else CameraSelector.LENS_FACING_FRONT
            startCamera()
        }
        findViewById<SwitchCompat>(R.id.draw_mesh).setOnCheckedChangeListener { _, checked -> overlay.drawMesh = checked }
        delegateButton.setOnClickListener { setDevice(Device.entries[(device.ordinal + 1) % Device.entries.size]) }

        // not again after a rotation recreated the activity: a run is started once per launch
        if (savedInstanceState == null && intent.getBooleanExtra(EXTRA_BENCHMARK, false)) {
            startBenchmark(intent.getIntExtra(EXTRA_FRAMES, 300), intent.getIntExtra(EXTRA_WARMUP, 30))
        }

        displayManager.registerDisplayListener(displayListener, null)
        if (ContextCompat.checkSelfPermission(this, Manifest.permission.CAMERA) == PackageManager.PERMISSION_GRANTED) {
            startCamera()
        } else {
            requestPermission.launch(Manifest.permission.CAMERA)
        }
    }

    override fun onSaveInstanceState(outState: Bundle) {
        super.onSaveInstanceState(outState)
        outState.putInt(STATE_LENS, lensFacing)
        outState.putString(STATE_DEVICE, device.name)
    }

    private fun setDevice(wanted: Device) {
        device = wanted
        analyzer.requestedDevice = wanted // XNNPACK on the CPU by default; the analyzer reports fallbacks
        delegateButton.text = getString(R.string.delegate_button, wanted.name)
    }

    /** A status line under the overlay; fallbacks to the CPU also as a Toast, so they cannot go unnoticed. */
    private fun showStatus(message: String, important: Boolean) {
        status.text = listOfNotNull(message, benchmarkLine).joinToString("\n")
        if (important) Toast.makeText(this, message, Toast.LENGTH_LONG).show()
    }

    /** The window draws behind the system bars (edge to edge): keep the controls and texts out from under them. */
    private fun applyInsets(panel: View) {
        val left = panel.paddingLeft
        val top = panel.paddingTop
        val right = panel.paddingRight
        val bottom = panel.paddingBottom
        ViewCompat.setOnApplyWindowInsetsListener(panel) { view, insets ->
            val bars = insets.getInsets(WindowInsetsCompat.Type.systemBars() or WindowInsetsCompat.Type.displayCutout())
            view.setPadding(left + bars.left, top, right + bars.right, bottom + bars.bottom)
            insets
        }
        ViewCompat.setOnApplyWindowInsetsListener(overlay) { _, insets ->
            val bars = insets.getInsets(WindowInsetsCompat.Type.systemBars() or WindowInsetsCompat.Type.displayCutout())
            overlay.textInsetLeft = bars.left
            overlay.textInsetTop = bars.top
            insets
        }
    }

    private fun startBenchmark(frames: Int, warmup: Int) {
        val delegate = device.name.lowercase()
        val benchmark = try {
            Benchmark(warmup, frames, delegate, File(getExternalFilesDir(null) ?: filesDir, BENCHMARK_FOLDER))
        } catch (error: IllegalArgumentException) {
            showStatus(error.message ?: error.toString(), true)
            return
        }
        benchmarkLine = getString(R.string.benchmark_running, delegate, warmup, frames)
        status.text = benchmarkLine
        Log.i(Benchmark.LOG_TAG, "started: delegate $delegate, $warmup warm-up + $frames frames")
        analyzer.frameListener = { timings, faces, label ->
            benchmark.record(timings, faces, label)?.let { report ->
                analyzer.frameListener = null
                runOnUiThread {
                    benchmarkLine = null
                    showStatus(report.headline, true)
                }
            }
        }
    }

    /** (Re)bind the camera once the preview has its size (its ViewPort needs it). */
    private fun startCamera() {
        previewView.doOnLayout { bindCamera() }
    }

    private fun bindCamera() {
        val providerFuture = ProcessCameraProvider.getInstance(this)
        providerFuture.addListener(Runnable {
            val provider = providerFuture.get()
            val rotation = previewView.display?.rotation ?: Surface.ROTATION_0
            val resolution = ResolutionSelector.Builder()
                .setAspectRatioStrategy(AspectRatioStrategy.RATIO_4_3_FALLBACK_AUTO_STRATEGY)
                .build()
            val preview = Preview.Builder().setResolutionSelector(resolution).setTargetRotation(rotation).build()
            preview.setSurfaceProvider(previewView.surfaceProvider)
            val analysis = ImageAnalysis.Builder()
                .setResolutionSelector(resolution)
                .setTargetRotation(rotation)
                .setBackpressureStrategy(ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST)
                .setOutputImageFormat(ImageAnalysis.OUTPUT_IMAGE_FORMAT_RGBA_8888)
                .build()
            analyzer.mirrored = lensFacing == CameraSelector.LENS_FACING_FRONT
            analyzer.resetRequested = true
            // CameraX's analyzer: the image goes to DenseFaceAnalyzer as plain Android types (it holds no
            // CameraX type, so CI compiles it), then back to CameraX, which sends the next one after close()
            analysis.setAnalyzer(analysisExecutor) { image ->
                try {
                    analyzer.analyze({ image.toBitmap() }, image.cropRect, image.imageInfo.rotationDegrees,
                        image.imageInfo.timestamp)
                } finally {
                    image.close()
                }
            }
            // one ViewPort for both: the analysis images' crop rect is the preview's visible area
            val group = UseCaseGroup.Builder().addUseCase(preview).addUseCase(analysis)
            previewView.viewPort?.let { group.setViewPort(it) }
            val selector = CameraSelector.Builder().requireLensFacing(lensFacing).build()
            try {
                provider.unbindAll()
                provider.bindToLifecycle(this, selector, group.build())
                this.analysis = analysis
            } catch (error: IllegalArgumentException) { // no camera with this lens facing
                Log.e(TAG, "cannot open the camera", error)
                val facing = if (lensFacing == CameraSelector.LENS_FACING_FRONT) "front" else "back"
                showStatus(getString(R.string.no_camera, facing), true)
            } catch (error: IllegalStateException) { // the use case combination is not supported
                Log.e(TAG, "cannot bind the camera", error)
                showStatus(error.message ?: error.toString(), true)
            }
        }, ContextCompat.getMainExecutor(this))
    }

    override fun onDestroy() {
        super.onDestroy()
        displayManager.unregisterDisplayListener(displayListener)
        analyzer.frameListener = null
        analysisExecutor.execute { analyzer.close() } // the interpreters belong to the analysis thread
        analysisExecutor.shutdown()
    }

    companion object {
        private const val TAG = "DenseFace"
        private const val TOPOLOGY_ASSET = "topology.bin"
        private const val STATE_LENS = "lens"
        private const val STATE_DEVICE = "device"
        private const val BENCHMARK_FOLDER = "benchmark"

        /** Boolean extra: run the benchmark mode. */
        const val EXTRA_BENCHMARK = "benchmark"

        /** Int extra: frames timed by the benchmark (default 300). */
        const val EXTRA_FRAMES = "frames"

        /** Int extra: frames run before the benchmark starts timing (default 30). */
        const val EXTRA_WARMUP = "warmup"

        /** String extra: `cpu`, `gpu` or `nnapi`. */
        const val EXTRA_DELEGATE = "delegate"
    }
}
