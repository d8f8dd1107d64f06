// The logic that must agree with the Python SDK, in plain Java 17 with no Android dependency:
// the same sources are compiled by `bash core/run_tests.sh` (javac + Debian's JUnit) in CI.
plugins {
    `java-library`
}

java {
    sourceCompatibility = JavaVersion.VERSION_17
    targetCompatibility = JavaVersion.VERSION_17
}

// Test code shared with the app's on-device parity test (app/build.gradle.kts adds the same folder to androidTest):
// Golden (the golden-file reader), Tolerances, ModelParity.
sourceSets {
    test {
        java.srcDir("src/testShared/java")
    }
}

dependencies {
    testImplementation("junit:junit:4.13.2")
}

tasks.test {
    // TopologyTest, LandmarksGoldenTest and FacePipelineTest read the asset the app ships.
    systemProperty("denseface.topology", rootProject.file("app/src/main/assets/topology.bin").absolutePath)
}
