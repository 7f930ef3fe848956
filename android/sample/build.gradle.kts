// A small sample app: enrolment, the sync engine's state with the outbox and upload counts,
// a report screen, the inbox, and a patrol recorded by a location foreground service
// (PatrolTrackingService). WorkManager and lifecycle-process come with :xiangying; androidx.core
// brings ServiceCompat, NotificationCompat and the location compat classes.
plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
    id("org.jetbrains.kotlin.plugin.compose")
}

android {
    namespace = "cn.xiangying.sample"
    compileSdk = 35
    defaultConfig {
        applicationId = "cn.xiangying.sample"
        minSdk = 24
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
    }
    buildFeatures { compose = true }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
}

dependencies {
    implementation(project(":xiangying"))
    implementation(platform("androidx.compose:compose-bom:2024.12.01"))
    implementation("androidx.compose.material3:material3")
    implementation("androidx.activity:activity-compose:1.9.3")
    implementation("androidx.core:core-ktx:1.13.1")
    implementation("androidx.lifecycle:lifecycle-runtime-compose:2.8.7")
}
