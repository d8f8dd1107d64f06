// DenseFace Android demo: the plain-JVM core (no Android import) and the app that wires it to CameraX and LiteRT.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "denseface-android-demo"
include(":core", ":app")
