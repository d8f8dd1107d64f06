package dev.denseface.demo

import android.Manifest
import android.content.pm.PackageManager
import android.os.Bundle
import android.util.Log
import android.widget.Button
import android.widget.Toast
import androidx.activity.result.contract.ActivityResultContracts
import androidx.appcompat.app.AppCompatActivity
import androidx.appcompat.widget.SwitchCompat
import androidx.camera.core.CameraSelector
import androidx.camera.core.ImageAnalysis
import androidx.camera.core.Preview
import androidx.camera.core.resolutionselector.AspectRatioStrategy
import androidx.camera.core.resolutionselector.ResolutionSelector
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.camera.view.PreviewView
import androidx.core.content.ContextCompat
import dev.denseface.core.Topology
import dev.denseface.demo.ml.Device
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors

/**
 * Wires the pieces together: CameraX preview + analysis (4:3 both, so the overlay's FILL_CENTER mapping
 * matches the preview), the [DenseFaceAnalyzer] on one background thread, the [OverlayView], and the
 * front/back, mesh and GPU switches.
 */
class MainActivity : AppCompatActivity() {

    private lateinit var previewView: PreviewView
    private lateinit var overlay: OverlayView
    private lateinit var analyzer: DenseFaceAnalyzer
    private lateinit var analysisExecutor: ExecutorService
    private var lensFacing = CameraSelector.LENS_FACING_FRONT

    private val requestPermission = registerForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
        if (granted) startCamera() else Toast.makeText(this, R.string.camera_permission_denied, Toast.LENGTH_LONG).show()
    }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_main)
        previewView = findViewById(R.id.preview)
        overlay = findViewById(R.id.overlay)
        val topology = assets.open(TOPOLOGY_ASSET).use { Topology.read(it) }
        overlay.topology = topology
        analysisExecutor = Executors.newSingleThreadExecutor()
        analyzer = DenseFaceAnalyzer(this, topology, onResult = overlay::show, onError = overlay::showError)

        findViewById<Button>(R.id.switch_camera).setOnClickListener {
            lensFacing = if (lensFacing == CameraSelector.LENS_FACING_FRONT) CameraSelector.LENS_FACING_BACK
            else CameraSelector.LENS_FACING_FRONT
            startCamera()
        }
        findViewById<SwitchCompat>(R.id.draw_mesh).setOnCheckedChangeListener { _, checked -> overlay.drawMesh = checked }
        findViewById<SwitchCompat>(R.id.use_gpu).setOnCheckedChangeListener { _, checked ->
            analyzer.requestedDevice = if (checked) Device.GPU else Device.CPU // XNNPACK on the CPU by default
        }

        if (ContextCompat.checkSelfPermission(this, Manifest.permission.CAMERA) == PackageManager.PERMISSION_GRANTED) {
            startCamera()
        } else {
            requestPermission.launch(Manifest.permission.CAMERA)
        }
    }

    private fun startCamera() {
        val providerFuture = ProcessCameraProvider.getInstance(this)
        providerFuture.addListener(Runnable {
            val provider = providerFuture.get()
            val resolution = ResolutionSelector.Builder()
                .setAspectRatioStrategy(AspectRatioStrategy.RATIO_4_3_FALLBACK_AUTO_STRATEGY)
                .build()
            val preview = Preview.Builder().setResolutionSelector(resolution).build()
            preview.setSurfaceProvider(previewView.surfaceProvider)
            val analysis = ImageAnalysis.Builder()
                .setResolutionSelector(resolution)
                .setBackpressureStrategy(ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST)
                .setOutputImageFormat(ImageAnalysis.OUTPUT_IMAGE_FORMAT_RGBA_8888)
                .build()
            analyzer.mirrored = lensFacing == CameraSelector.LENS_FACING_FRONT
            analyzer.resetRequested = true
            analysis.setAnalyzer(analysisExecutor, analyzer)
            val selector = CameraSelector.Builder().requireLensFacing(lensFacing).build()
            try {
                provider.unbindAll()
                provider.bindToLifecycle(this, selector, preview, analysis)
            } catch (error: IllegalArgumentException) { // no camera with this lens facing
                Log.e(TAG, "cannot open the camera", error)
                Toast.makeText(this, "No ${if (lensFacing == CameraSelector.LENS_FACING_FRONT) "front" else "back"} camera", Toast.LENGTH_LONG).show()
            }
        }, ContextCompat.getMainExecutor(this))
    }

    override fun onDestroy() {
        super.onDestroy()
        analysisExecutor.execute { analyzer.close() } // the interpreters belong to the analysis thread
        analysisExecutor.shutdown()
    }

    private companion object {
        const val TAG = "DenseFace"
        const val TOPOLOGY_ASSET = "topology.bin"
    }
}
