import java.security.MessageDigest

plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

// ---- the two models, put into generated assets at build time (never committed) ----

// MediaPipe 0.10.14's short-range BlazeFace as the Python SDK bundles it (sdk/denseface/models/blazeface,
// whose NOTICE gives the same sha256).
val detectorFile = "face_detection_short_range.tflite"
val detectorSha256 = "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8"
val bundledDetector = rootProject.file("../sdk/denseface/models/blazeface/$detectorFile")

// The bundled int8 landmark model of the Python SDK; -Pdenseface.model=/path/to/other.tflite swaps it.
val landmarkModel = providers.gradleProperty("denseface.model")
    .map { file(it) }
    .orElse(rootProject.file("../sdk/denseface/models/denseface_int8.tflite"))

val generatedAssets = layout.buildDirectory.dir("generated/denseface/assets")

fun sha256(bytes: ByteArray): String =
    MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") { "%02x".format(it) }

val copyDetector by tasks.registering {
    description = "Copies the SDK's bundled short-range BlazeFace (sha256-checked) into the generated assets."
    val target = generatedAssets.map { it.file(detectorFile) }
    inputs.file(bundledDetector)
    outputs.file(target)
    doLast {
        val bytes = bundledDetector.readBytes()
        val digest = sha256(bytes)
        if (digest != detectorSha256) {
            throw GradleException("$bundledDetector has sha256 $digest, expected $detectorSha256")
        }
        target.get().asFile.apply { parentFile.mkdirs() }.writeBytes(bytes)
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
                "(python -m train.learning.export), or pass -Pdenseface.model=/path/to/model.tflite")
        }
    }
}

tasks.named("preBuild") { dependsOn(copyDetector, copyLandmarkModel) }

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
        testInstrumentationRunner = "androidx.test.runner.AndroidJUnitRunner"
    }

    sourceSets["main"].assets.srcDir(generatedAssets)

    // The on-device parity test (src/androidTest, ./gradlew connectedAndroidTest) uses the JVM core's golden
    // files and shared test code where they are, no copies: assets/golden/*.json and Golden / Tolerances /
    // ModelParity (the same code run_tests.sh and :core:test compile).
    sourceSets["androidTest"].assets.srcDir("../core/src/test/resources")
    sourceSets["androidTest"].java.srcDir("../core/src/testShared/java")

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

    androidTestImplementation("androidx.test.ext:junit:1.2.1") // AndroidJUnit4 (JUnit 4.13.2)
    androidTestImplementation("androidx.test:runner:1.6.2") // AndroidJUnitRunner, InstrumentationRegistry
}
