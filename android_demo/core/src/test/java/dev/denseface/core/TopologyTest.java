package dev.denseface.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import org.junit.Test;

/** The topology.bin asset (exported by android_demo/tools/export_assets.py from sdk/denseface/assets/topology.npz). */
public class TopologyTest {

    @Test
    public void theAssetHoldsTheDenseLayout() throws Exception {
        Topology topology = Golden.topology();
        assertEquals(LandmarkDecoder.N_POINTS, topology.pointCount());
        assertEquals(LandmarkDecoder.N_LANDMARKS68, topology.landmarks68());
        assertTrue(topology.triangleCount() > 500);
        for (int index : topology.triangles()) {
            assertTrue(index >= 0 && index < topology.pointCount());
        }
        for (int i = 0; i < topology.pointCount(); i++) {
            assertEquals("flip is an involution", i, topology.flip()[topology.flip()[i]]);
        }
    }

    @Test(expected = IOException.class)
    public void aFileOfAnotherKindIsRejected() throws Exception {
        Topology.read(new ByteArrayInputStream(new byte[64]));
    }
}
