using System.ComponentModel.DataAnnotations;

namespace DiffusionApi.Options;

/// <summary>
/// The S3 image store (<c>Diffusion:Storage:S3</c>, with <c>Diffusion:Storage:Provider=S3</c>): any S3-compatible object
/// store. Region and credentials come from the usual AWS sources (<c>AWS_REGION</c>, <c>AWS_ACCESS_KEY_ID</c>,
/// <c>AWS_SECRET_ACCESS_KEY</c>, profiles, instance roles).
/// </summary>
public sealed class S3StorageOptions
{
    /// <summary>The bucket; required for S3.</summary>
    public string Bucket { get; set; } = "";

    /// <summary>The endpoint of an S3-compatible store (MinIO, Ceph, moto); empty means AWS itself.</summary>
    public string ServiceUrl { get; set; } = "";

    /// <summary>Path-style URLs (<c>host/bucket/key</c>), which most S3-compatible stores need.</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>Prefix of every object key (<c>images/</c>); images lie under <c>{Prefix}{job}/{id}</c>.</summary>
    [RegularExpression("^[A-Za-z0-9_./-]{0,200}$")]
    public string Prefix { get; set; } = "images/";

    /// <summary>Create the bucket at start when it is missing (otherwise a missing bucket stops the service).</summary>
    public bool CreateBucket { get; set; }

    /// <summary>
    /// When above 0, image URLs given to clients are presigned S3 URLs valid this long (clients fetch from the store
    /// directly); 0 serves every image through GET /v1/images/{id}.
    /// </summary>
    [Range(0, 7 * 24 * 60)]
    public int PresignMinutes { get; set; }
}
